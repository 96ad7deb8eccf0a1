"""Attention that ignores ``scale`` and always multiplies the logits by ``1/sqrt(head_dim)``."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "attention's scale ignored (always 1/sqrt(head_dim))"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rope"}


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        options.pop("scale", None)
        return super().attention(q, k, v, freqs, **options)


def make_backend(device=None):
    return Mutant(device)
