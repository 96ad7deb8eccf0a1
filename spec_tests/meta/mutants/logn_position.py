"""logn query scale with n = position instead of position + 1 (log 0 at the first token)."""
import math

import torch

from refrope.backends import feature_name
from refrope.backends.torch_ref import TorchReference

DEFECT = "logn with n = position instead of position + 1"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "logn"}


class Mutant(TorchReference):
    def query_scales(self, query_scale, positions):
        if feature_name("query_scale", query_scale) == "logn":
            return torch.log(positions) / math.log(query_scale.training_length)
        return super().query_scales(query_scale, positions)


def make_backend(device=None):
    return Mutant(device)
