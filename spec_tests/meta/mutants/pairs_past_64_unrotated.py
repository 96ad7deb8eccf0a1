"""A rotary kernel whose block covers 64 pairs: pairs from 64 on are left unrotated (head size 256 half-rotated)."""
import numpy as np

import refrope
from refrope.backends.torch_ref import TorchReference

DEFECT = "pairs past the 64th unrotated (rotary dim 256)"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        omega = np.where(np.arange(freqs.rotary_dim // 2) < 64, freqs.inv_freq, 0.0)
        block = refrope.Frequencies(omega, attention_factor=freqs.attention_factor)
        return super().apply_rope(x, positions, block, layout=layout, rotary_offset=rotary_offset)


def make_backend(device=None):
    return Mutant(device)
