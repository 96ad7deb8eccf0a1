"""Positions past a 4096-row cos/sin cache silently rotated by 0
(flash-attention `flash_attn/ops/triton/rotary.py`, other=1/0)."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "positions past a cos/sin cache silently treated as identity"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}
CACHE = 4096


class Mutant(TorchReference):
    def cos_sin_pairs(self, positions, freqs, dtype):
        cos, sin = super().cos_sin_pairs(positions, freqs, dtype)
        past = (self.tensor(positions) >= CACHE)[..., None]
        return torch.where(past, torch.ones_like(cos), cos), torch.where(past, torch.zeros_like(sin), sin)


def make_backend(device=None):
    return Mutant(device)
