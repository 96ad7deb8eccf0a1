"""Attention rotating from a cos/sin cache of 65,536 rows, positions clamped to its last row (an index past a
``max_position_embeddings`` cache made safe with ``clamp``)."""
import numpy as np

from refrope.backends.torch_ref import TorchReference

DEFECT = "attention positions clamped at a 65,536-row cache"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rope"}


class Mutant(TorchReference):
    def logits(self, q, k, freqs, pq, pk, relpos, layout):
        return super().logits(q, k, freqs, np.minimum(pq, 2**16 - 1), np.minimum(pk, 2**16 - 1), relpos, layout)


def make_backend(device=None):
    return Mutant(device)
