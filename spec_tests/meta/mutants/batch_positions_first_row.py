"""Per-batch positions read from the first sequence only (``position_ids[0]`` for every sequence of the batch)."""
import numpy as np

from refrope.backends.torch_ref import TorchReference

DEFECT = "per-batch positions: the first sequence's for every sequence"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rope"}


def _first_row(positions):
    p = np.asarray(positions)
    return p if p.ndim < 2 else p.reshape(-1, p.shape[-1])[0]


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        for name in ("positions_q", "positions_k"):
            if options.get(name) is not None:
                options[name] = _first_row(options[name])
        return super().attention(q, k, v, freqs, **options)


def make_backend(device=None):
    return Mutant(device)
