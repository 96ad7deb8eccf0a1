"""A softmax without max-subtraction, ``exp(s) / sum(exp(s))`` in float32: inf / inf = NaN once a logit passes
88.72 (float16 kernels: 11.09)."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "softmax without subtracting the row maximum"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rope"}


class Mutant(TorchReference):
    def softmax(self, s):
        e = torch.exp(s)
        return e / e.sum(dim=-1, keepdim=True)


def make_backend(device=None):
    return Mutant(device)
