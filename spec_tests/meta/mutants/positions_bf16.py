"""Positions held in bfloat16 before the angle is formed (65536 + k rounds to 65536; cf. EleutherAI/gpt-neox#1003)."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "positions held in bfloat16"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def angles(self, positions, freqs):
        pos = self.tensor(positions).to(torch.bfloat16).float()
        return pos[..., None] * self.tensor(freqs.inv_freq)


def make_backend(device=None):
    return Mutant(device)
