"""Attention that rotates the leading coordinates whatever ``rotary_offset`` says (a kernel written for
``[rot | pass]`` heads given DeepSeek MLA's ``[pass | rot]`` layout)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "attention's rotary_offset ignored (the rotary slice always first)"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rope"}


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        return super().attention(q, k, v, freqs, **{**options, "rotary_offset": 0})


def make_backend(device=None):
    return Mutant(device)
