"""The magnitude applied to the whole head: pass-through coordinates scaled too."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "pass-through dimensions modified (scaled by the attention factor)"
CAUGHT_BY = "K-APPLY-2"
PROBE = {"test": "apply_rope", "variant": "yarn", "layout": "half"}


class Mutant(TorchReference):
    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        out = super().apply_rope(x, positions, freqs, layout=layout, rotary_offset=rotary_offset)
        d = freqs.rotary_dim
        out[..., :rotary_offset] *= freqs.attention_factor
        out[..., rotary_offset + d:] *= freqs.attention_factor
        return out


def make_backend(device=None):
    return Mutant(device)
