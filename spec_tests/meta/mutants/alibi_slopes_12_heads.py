"""ALiBi slopes 2^(-8(h+1)/n) for every head count: right for powers of two, wrong for 12 heads (the paper's
get_slopes interleaves the slopes of 8 and 16 heads there)."""
import numpy as np
import torch

from refrope.backends import feature_name
from refrope.backends.torch_ref import TorchReference

DEFECT = "ALiBi slopes 2^(-8(h+1)/n) for a head count that is not a power of two"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention_schemes", "case": "alibi_slopes"}


class Mutant(TorchReference):
    def bias_values(self, bias, rel, pq, pk):
        if feature_name("bias", bias) == "alibi" and isinstance(bias.slopes, tuple):
            n = len(bias.slopes)
            slopes = self.tensor(2.0 ** (-8.0 * np.arange(1, n + 1) / n)).reshape(-1, 1, 1)
            return -slopes * torch.abs(rel)
        return super().bias_values(bias, rel, pq, pk)


def make_backend(device=None):
    return Mutant(device)
