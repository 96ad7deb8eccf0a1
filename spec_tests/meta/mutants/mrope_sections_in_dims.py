"""M-RoPE sections read as dimensions: the block boundaries taken at dimension 2i instead of pair i, so every block is
half as many pairs and the rest follow the last axis (a units mix-up of pairs and dimensions: cf.
xLLM-AI/xllm PR #746)."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "M-RoPE sections read as dimensions (each block half as many pairs)"
CAUGHT_BY = "K-MROPE-1"
PROBE = {"test": "apply_mrope", "case": "blocked", "layout": "half"}


class Mutant(TorchReference):
    def mrope_select(self, table, sections, mode):
        if mode != "blocked":
            return super().mrope_select(table, sections, mode)
        dim = 2 * torch.arange(table.shape[-1], device=table.device)  # the dimension index of pair i
        bounds = torch.tensor(list(sections), device=table.device).cumsum(0)
        axis = torch.searchsorted(bounds, dim, right=True).clamp(max=len(sections) - 1)
        return table.gather(0, axis.view((1,) * (table.ndim - 1) + (-1,)).expand((1,) + table.shape[1:]))[0]


def make_backend(device=None):
    return Mutant(device)
