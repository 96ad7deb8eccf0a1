"""Partial rotary with the frequency exponent over head_dim instead of rotary_dim
(cf. huggingface/transformers#48652)."""
import numpy as np

import refrope
from refrope.backends.torch_ref import TorchReference

DEFECT = "partial rotary exponent over head_dim"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        head, d = x.shape[-1], freqs.rotary_dim
        if freqs.variant == "default" and head > d:  # recomputed from theta, over the whole head
            omega = freqs.params["theta"] ** (-np.arange(0, d, 2) / head)
            freqs = refrope.Frequencies(omega, freqs.attention_factor)
        return super().apply_rope(x, positions, freqs, layout=layout, rotary_offset=rotary_offset)


def make_backend(device=None):
    return Mutant(device)
