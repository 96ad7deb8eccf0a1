"""ReRoPE clamped on one side only, ``min(r, w)``: right for r >= 0, plain RoPE for r < 0 (bojone/rerope's
``rerope_patch.py`` clamps ``q_pos - k_pos`` at the window, which a causal model never sees negative)."""
import torch

from refrope.backends import feature_name
from refrope.backends.torch_ref import TorchReference

DEFECT = "ReRoPE without the odd extension for r < 0 (non-causal)"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rerope"}


class Mutant(TorchReference):
    def relpos_map(self, relpos):
        if feature_name("relpos", relpos) == "rerope":
            return lambda r: torch.clamp(r, max=relpos.window)
        return super().relpos_map(relpos)


def make_backend(device=None):
    return Mutant(device)
