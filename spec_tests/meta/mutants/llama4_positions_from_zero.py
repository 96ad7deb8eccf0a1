"""Llama 4 vision positions from 0 instead of (row + 1, col + 1): the first patch then shares the class token's
angle 0."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "Llama 4 vision positions from 0 instead of 1"
CAUGHT_BY = "K-VISION-1"
PROBE = {"test": "apply_vision_rope", "case": "llama4"}


class Mutant(TorchReference):
    def vision_positions(self, kind, grid, merge):
        pos = super().vision_positions(kind, grid, merge)
        if kind == "llama4":
            pos = torch.cat([pos[:-1] - 1, pos[-1:]])
        return pos


def make_backend(device=None):
    return Mutant(device)
