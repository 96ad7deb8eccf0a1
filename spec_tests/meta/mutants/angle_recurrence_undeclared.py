"""Angles built as ggml's CPU kernel builds them (``theta *= powf(base, -2/d)`` per pair, ggml
``src/ggml-cpu/ops.cpp`` ``ggml_rope_cache_init``) by a backend that does not declare
``angle_method = "recurrence"``: the direct budget of [N-ROPE-1] does not cover it ([N-ROPE-3])."""
import numpy as np
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "angles by ggml's float32 recurrence, undeclared"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


def recurrence_angles(positions: torch.Tensor, freqs, ratio_dtype=torch.float32) -> torch.Tensor:
    """``theta_0 = p``, ``theta_i = theta_{i-1} * s`` in float32 with ``s = base ** (-2/d)`` rounded to
    ``ratio_dtype``, divided by the per-pair factors that make the frequencies ``freqs.inv_freq``."""
    d, theta = freqs.rotary_dim, float(freqs.params["theta"])
    s = (torch.tensor(theta, dtype=torch.float32) ** torch.tensor(-2.0 / d, dtype=torch.float32)).to(ratio_dtype)
    factors = torch.tensor(theta ** (-2.0 * np.arange(d // 2) / d) / np.asarray(freqs.inv_freq), dtype=torch.float32)
    column, columns = positions.to(torch.float32), []
    for i in range(d // 2):
        columns.append(column / factors[i])
        column = column * s.float()
    return torch.stack(columns, dim=-1)


class Mutant(TorchReference):
    def angles(self, positions, freqs):
        return recurrence_angles(self.tensor(positions), freqs)


def make_backend(device=None):
    return Mutant(device)
