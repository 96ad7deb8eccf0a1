"""Error against position for the report's figure: the backend's apply_rope error and the budget per dtype.

For each dtype, one fixed input (rotary dim 128, theta 1e4, default frequencies, the first layout the
backend supports) is rotated
at positions 2^0 .. 2^20; the figure plots the largest error relative to its pair's norm and the budget
:math:`C_d u + C_a u_a (1 + p\\,\\omega_{max})` of [N-ROPE-1] (docs/spec/numerics.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import budgets as tol
from ..frequencies.registry import inv_freq
from ..layouts import LAYOUTS, pair_slices
from ..rotary import apply_rope

POSITIONS = np.unique(np.round(2.0 ** np.arange(0, 20.01, 0.5))).astype(np.int64)


def error_vs_position(backend, dtype: str, *, rotary_dim: int = 128, theta: float = 10_000.0) -> dict:
    """``{"positions", "error", "budget"}``: per position, max |backend - oracle| / (m r) and the budget (same
    units)."""
    from ..backends.protocol import supports

    layout = next(name for name in LAYOUTS if supports(backend, "apply_rope", layout=name) is None)
    freqs = inv_freq("default", rotary_dim, theta=theta)
    x = np.random.default_rng(0).standard_normal((len(POSITIONS), rotary_dim))
    native = backend.to_backend(x, dtype)
    xr = np.asarray(backend.to_numpy(native), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = np.asarray(backend.to_numpy(backend.function("apply_rope")(native, POSITIONS, freqs, layout=layout)))
    expected = apply_rope(xr, POSITIONS, freqs, layout=layout)
    a_in, b_in = pair_slices(rotary_dim, layout)
    a_out, b_out = pair_slices(rotary_dim, layout, output=True)
    r = np.empty_like(xr)
    r[:, a_out] = r[:, b_out] = np.hypot(xr[:, a_in], xr[:, b_in])  # each output's pair norm
    error = np.nan_to_num(np.abs(out - expected) / np.where(r > 0, r, 1.0), nan=np.inf).max(axis=1)
    u, ua = tol.unit_roundoff(dtype), tol.unit_roundoff(backend.angle_dtype)
    budget = tol.C_DTYPE * u + tol.C_ANGLE * ua * (1.0 + POSITIONS * freqs.inv_freq.max())
    return {"positions": POSITIONS, "error": error, "budget": budget}


def plot(curves: dict, path, title: str) -> bool:
    """Write the figure (one colour per dtype: error dots, budget line); False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (dtype, c), colour in zip(curves.items(), ("C0", "C1", "C2", "C3")):
        ax.loglog(c["positions"], np.clip(c["error"], 1e-18, 10.0), "o", ms=3, color=colour, label=f"{dtype} error")
        ax.loglog(c["positions"], c["budget"], "-", color=colour, label=f"{dtype} budget [N-ROPE-1]")
    ax.set_xlabel("position p (omega_max = 1)")
    ax.set_ylabel("max |backend - oracle| / (m r)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True

def write_figure(backend, report_dir: Path) -> str:
    """Write DIR/error_vs_position.png; return a line saying what happened."""
    if "apply_rope" not in backend.capabilities:
        return f"no figure: {backend.name} does not provide apply_rope"
    curves = {dtype: error_vs_position(backend, dtype) for dtype in backend.dtypes}
    path = report_dir / "error_vs_position.png"
    if not plot(curves, path, f"{backend.name}: apply_rope error against position"):
        return "no figure: matplotlib is not installed (pip install matplotlib); error_vs_position.png skipped"
    return f"figure written to {path}"
