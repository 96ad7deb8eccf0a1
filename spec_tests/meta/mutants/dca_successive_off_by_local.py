"""Dual-chunk attention's successive-chunk query at min(p mod c + chunk_size, chunk_size): off by local_size
(chunk_size confused with the chunk length c = chunk_size - local_size)."""
import numpy as np

from refrope.backends.torch_ref import TorchReference

DEFECT = "DCA successive query position off by local_size"
CAUGHT_BY = "K-DCA-1"
PROBE = {"test": "dual_chunk_attention", "layout": "half"}


class Mutant(TorchReference):
    def dual_chunk_queries(self, p, chunk_size, local_size):
        intra, _, inter = super().dual_chunk_queries(p, chunk_size, local_size)
        c = chunk_size - local_size
        return intra, np.minimum(p % c + c + local_size, chunk_size), inter


def make_backend(device=None):
    return Mutant(device)
