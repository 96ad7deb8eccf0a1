"""xPos keys scaled by zeta^(+p/B), like the queries, instead of zeta^(-p/B)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "xPos key scale not inverted"
CAUGHT_BY = "K-XPOS-1"
PROBE = {"test": "apply_xpos", "layout": "half", "role": "k"}


class Mutant(TorchReference):
    def apply_xpos(self, x, positions, freqs, **options):
        return super().apply_xpos(x, positions, freqs, **{**options, "role": "q"})


def make_backend(device=None):
    return Mutant(device)
