"""KERPLE's logarithmic bias without the 1 +: -r1 log(r2 |r|), infinite at r = 0."""
import torch

from refrope.backends import feature_name
from refrope.backends.torch_ref import TorchReference

DEFECT = "KERPLE log bias -r1 log(r2 |r|) (the 1 + dropped)"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention_schemes", "case": "kerple_log"}


class Mutant(TorchReference):
    def bias_values(self, bias, rel, pq, pk):
        if feature_name("bias", bias) == "kerple_log":
            return -float(bias.r1) * torch.log(float(bias.r2) * rel.abs())
        return super().bias_values(bias, rel, pq, pk)


def make_backend(device=None):
    return Mutant(device)
