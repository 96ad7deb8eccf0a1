"""Blocked and interleaved M-RoPE swapped (Qwen3-VL run with Qwen2.5-VL's blocked recomposition: alibaba/MNN
PR #4133)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "blocked and interleaved M-RoPE swapped"
CAUGHT_BY = "K-MROPE-1"
PROBE = {"test": "apply_mrope", "case": "interleaved", "layout": "half"}
_SWAP = {"blocked": "interleaved", "interleaved": "blocked"}


class Mutant(TorchReference):
    def mrope_select(self, table, sections, mode):
        return super().mrope_select(table, sections, _SWAP[mode])


def make_backend(device=None):
    return Mutant(device)
