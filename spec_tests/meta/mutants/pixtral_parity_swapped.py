"""Pixtral's 2-D frequencies with the parity swapped: rows on the odd-indexed frequencies, columns on the even."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "Pixtral parity swapped (rows on the odd-indexed frequencies)"
CAUGHT_BY = "K-VISION-1"
PROBE = {"test": "apply_vision_rope", "case": "pixtral"}


class Mutant(TorchReference):
    def vision_angles(self, kind, positions, head_dim, theta):
        if kind != "pixtral":
            return super().vision_angles(kind, positions, head_dim, theta)
        d = head_dim
        inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float) / d))
        angles = positions.float()[..., None] * torch.cat([inv[1::2], inv[0::2]])
        return torch.cat([angles[:, 0, : d // 4], angles[:, 1, d // 4:]], dim=-1)


def make_backend(device=None):
    return Mutant(device)
