r"""A Triton kernel for ``apply_rope`` and its refrope backend adapter (the protocol of :mod:`refrope.backends`).

The kernel rotates a tile of ``BLOCK_ROWS`` rows by ``BLOCK_PAIRS`` pairs per program: it loads the two
members of every pair of the rotary slice ``[rotary_offset, rotary_offset + d)`` (where they sit depends
on the layout), computes the angles :math:`\phi = p\,\omega_i` and cos/sin in float32, and writes

.. math:: (a, b) \mapsto m\,(a\cos\phi - b\sin\phi,\; b\cos\phi + a\sin\phi)

to the output pair (which differs from the input pair only for ``interleaved_to_half``). The
pass-through coordinates are a copy of the input. Angles in float32 is what HF and vLLM do; the
spec's budget grows with :math:`|p\,\omega|` for exactly this reason (docs/spec/numerics.md, N-ROPE-1).

Run the spec suite against it on the CPU with Triton's interpreter, or compiled on a GPU::

    TRITON_INTERPRET=1 PYTHONPATH=examples python -m pytest spec_tests/conformance --backend triton_rope
    PYTHONPATH=examples python -m pytest spec_tests/conformance --backend triton_rope --device cuda

Spec: docs/spec/conformance.md (K-APPLY-1, K-APPLY-2); golden vectors docs/spec/vectors.md (GV-REPLAY-1).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
import triton
import triton.language as tl

LAYOUT_CODES = {"half": 0, "interleaved": 1, "interleaved_to_half": 2}


@triton.jit
def rope_kernel(x_ptr, out_ptr, pos_ptr, freq_ptr, n_rows, head_dim, offset, n_pairs, magnitude,
                LAYOUT: tl.constexpr, BLOCK_ROWS: tl.constexpr, BLOCK_PAIRS: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_ROWS + tl.arange(0, BLOCK_ROWS)
    pairs = tl.arange(0, BLOCK_PAIRS)
    row_ok = rows < n_rows
    pair_ok = pairs < n_pairs
    mask = row_ok[:, None] & pair_ok[None, :]
    # where pair i is read: half (i, i + d/2); interleaved and interleaved_to_half (2i, 2i + 1)
    if LAYOUT == 0:
        in_a = pairs
        in_b = pairs + n_pairs
    else:
        in_a = 2 * pairs
        in_b = 2 * pairs + 1
    # where it is written: interleaved keeps (2i, 2i + 1); the others write (i, i + d/2)
    if LAYOUT == 1:
        out_a = in_a
        out_b = in_b
    else:
        out_a = pairs
        out_b = pairs + n_pairs
    base = rows.to(tl.int64)[:, None] * head_dim + offset
    a = tl.load(x_ptr + base + in_a[None, :], mask=mask, other=0.0).to(tl.float32)
    b = tl.load(x_ptr + base + in_b[None, :], mask=mask, other=0.0).to(tl.float32)
    pos = tl.load(pos_ptr + rows, mask=row_ok, other=0.0)
    omega = tl.load(freq_ptr + pairs, mask=pair_ok, other=0.0)
    phi = pos[:, None] * omega[None, :]  # float32 angles
    c = tl.cos(phi) * magnitude
    s = tl.sin(phi) * magnitude
    ty = out_ptr.dtype.element_ty
    tl.store(out_ptr + base + out_a[None, :], (a * c - b * s).to(ty), mask=mask)
    tl.store(out_ptr + base + out_b[None, :], (b * c + a * s).to(ty), mask=mask)


def apply_rope(x: torch.Tensor, positions: Any, inv_freq: Any, magnitude: float = 1.0, *, layout: str = "half",
               rotary_offset: int = 0, block_rows: int = 16) -> torch.Tensor:
    """Rotate the rotary slice of ``x`` (``(..., head_dim)``, any float dtype) at ``positions`` (broadcast to
    ``x.shape[:-1]``) by the frequencies ``inv_freq``; returns a new tensor of ``x``'s dtype."""
    if layout not in LAYOUT_CODES:
        raise ValueError(f"layout must be one of {sorted(LAYOUT_CODES)}, got {layout!r}")
    omega = torch.tensor(np.array(inv_freq, dtype=np.float64), device=x.device).to(torch.float32).contiguous()
    n_pairs, head = omega.numel(), x.shape[-1]
    if rotary_offset < 0 or rotary_offset + 2 * n_pairs > head:
        raise ValueError(f"rotary slice [{rotary_offset}, {rotary_offset + 2 * n_pairs}) does not fit head_dim={head}")
    x = x.contiguous()
    pos = np.broadcast_to(np.asarray(positions, dtype=np.float64), x.shape[:-1])
    pos = torch.tensor(np.array(pos), device=x.device).to(torch.float32).reshape(-1)
    out = x.clone()  # pass-through coordinates: the input
    rows = pos.numel()
    if rows:
        grid = (triton.cdiv(rows, block_rows),)
        rope_kernel[grid](x, out, pos, omega, rows, head, rotary_offset, n_pairs, float(magnitude),
                          LAYOUT=LAYOUT_CODES[layout], BLOCK_ROWS=block_rows,
                          BLOCK_PAIRS=triton.next_power_of_2(n_pairs))
    return out


def default_device() -> str:
    """``"cpu"`` under the interpreter (``TRITON_INTERPRET=1``) or without CUDA, else ``"cuda"``."""
    if os.environ.get("TRITON_INTERPRET") == "1" or not torch.cuda.is_available():
        return "cpu"
    return "cuda"


class TritonRope:
    """The refrope backend object: float32 storage, float32 angles, ``apply_rope`` with offsets."""

    name = "triton_rope"
    dtypes = ("float32",)
    angle_dtype = "float32"
    capabilities = frozenset({"apply_rope", "rotary_offset"})

    def __init__(self, device: str | None = None) -> None:
        self.device = torch.device(device or default_device())
        mode = "interpreter" if os.environ.get("TRITON_INTERPRET") == "1" else "compiled"
        self.versions = {"triton": triton.__version__, "torch": torch.__version__, "device": str(self.device),
                         "mode": mode}

    def to_backend(self, array: np.ndarray, dtype: str) -> torch.Tensor:
        if dtype != "float32":
            raise ValueError(f"{self.name} stores float32 only, got {dtype!r}")
        return torch.tensor(np.asarray(array, dtype=np.float64), device=self.device).to(torch.float32)

    def to_numpy(self, tensor: torch.Tensor) -> np.ndarray:
        return tensor.detach().to("cpu", torch.float64).numpy()

    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        return apply_rope(x, positions, freqs.inv_freq, freqs.attention_factor, layout=layout,
                          rotary_offset=rotary_offset)


def make_backend(device: str | None = None) -> TritonRope:
    """The adapter ``load_backend("triton_rope")`` builds (with ``examples/`` on ``PYTHONPATH``)."""
    return TritonRope(device)
