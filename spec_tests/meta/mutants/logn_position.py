"""logn query scale with n = position instead of position + 1 (log 0 at the first token)."""
import math

import torch

from refrope.adapters.torch_ref import TorchReference, query_scale_values
from refrope.backend import feature_name

DEFECT = "logn with n = position instead of position + 1"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "logn"}


def _scales(query_scale, positions):
    if feature_name("query_scale", query_scale) == "logn":
        return torch.log(positions) / math.log(query_scale.training_length)
    return query_scale_values(query_scale, positions)


class Mutant(TorchReference):
    def attention_hooks(self):
        return {"scales": _scales}


def make_backend(device=None):
    return Mutant(device)
