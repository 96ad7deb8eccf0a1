"""apply_rope that rotates its input in place (and returns it)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "input mutated in place"
CAUGHT_BY = "K-INPUT-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        x.copy_(super().apply_rope(x, positions, freqs, layout=layout, rotary_offset=rotary_offset))
        return x


def make_backend(device=None):
    return Mutant(device)
