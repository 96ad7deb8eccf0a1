"""Qwen2-VL vision positions in plain row-major patch order, without the merge windows the tower's tokens come in
(the patches of one 2 x 2 window are consecutive tokens)."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "Qwen2-VL vision patches row-major, without the merge-window order"
CAUGHT_BY = "K-VISION-1"
PROBE = {"test": "apply_vision_rope", "case": "qwen2_vl"}


class Mutant(TorchReference):
    def vision_positions(self, kind, grid, merge):
        if kind != "qwen2_vl":
            return super().vision_positions(kind, grid, merge)
        t, h, w = grid if len(grid) == 3 else (1, *grid)
        hpos, wpos = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        return torch.stack([hpos.flatten(), wpos.flatten()], dim=-1).repeat(t, 1)


def make_backend(device=None):
    return Mutant(device)
