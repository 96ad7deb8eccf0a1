"""Positions held in bfloat16 before the angle is formed (anchors §9 bug #4: 65536 + k rounds to 65536)."""
import torch

from refrope.adapters.torch_ref import TorchReference, _f32

DEFECT = "positions held in bfloat16"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def angles(self, positions, freqs):
        pos = _f32(positions, self.device).to(torch.bfloat16).float()
        return pos[..., None] * _f32(freqs.inv_freq, self.device)


def make_backend(device=None):
    return Mutant(device)
