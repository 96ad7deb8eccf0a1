"""inv_freq held in float16, as a buffer cast by ``model.half()`` (anchors §9 bug #4)."""
import torch

from refrope.adapters.torch_ref import TorchReference, _f32

DEFECT = "inv_freq held in float16"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def angles(self, positions, freqs):
        return _f32(positions, self.device)[..., None] * _f32(freqs.inv_freq, self.device).half().float()


def make_backend(device=None):
    return Mutant(device)
