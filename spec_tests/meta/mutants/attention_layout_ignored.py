"""Attention that rotates in the ``"half"`` layout whatever ``layout`` says (a fused kernel wired to NeoX pairs)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "attention's layout ignored (always half)"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rope"}


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        return super().attention(q, k, v, freqs, **{**options, "layout": "half"})


def make_backend(device=None):
    return Mutant(device)
