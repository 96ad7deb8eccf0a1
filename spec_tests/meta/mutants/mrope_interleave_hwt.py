"""Interleaved M-RoPE in the order h, w, t (channel 0 mod 3 to h, 1 to w, 2 to t) instead of t, h, w."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "interleaved M-RoPE in the order h, w, t"
CAUGHT_BY = "K-MROPE-1"
PROBE = {"test": "apply_mrope", "case": "interleaved", "layout": "half"}


class Mutant(TorchReference):
    def mrope_select(self, table, sections, mode):
        if mode != "interleaved":
            return super().mrope_select(table, sections, mode)
        channel = torch.arange(table.shape[-1], device=table.device)
        height = (channel % 3 == 0) & (channel < 3 * sections[1])
        width = (channel % 3 == 1) & (channel < 3 * sections[2])
        return torch.where(width, table[2], torch.where(height, table[1], table[0]))


def make_backend(device=None):
    return Mutant(device)
