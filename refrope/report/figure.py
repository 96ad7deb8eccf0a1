"""Error against position for the report's figure: the backend's apply_rope error and the budget per dtype.

For each dtype, one fixed input (variant ``default``, :math:`\\theta = 10^4`, head and rotary dim 128, the
first layout the backend supports) is rotated at positions 0 and :math:`2^0 .. 2^{20}`; the figure plots the
largest error relative to :math:`m\\,r` (:math:`m` the magnitude, 1 here; :math:`r` the norm of the pair the
output belongs to) and the budget :math:`C_d u + C_a u_a (1 + p\\,\\omega_{max})` of [N-ROPE-1]
(docs/spec/numerics.md) in the same units. The position axis is symmetric-logarithmic, so p = 0 is drawn.
Spec: docs/spec/conformance.md [K-REPORT-1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import budgets as tol
from ..frequencies.registry import inv_freq
from ..layouts import LAYOUTS, pair_slices
from ..rotary import apply_rope

POSITIONS = np.concatenate([[0], np.unique(np.round(2.0 ** np.arange(0, 20.01, 0.5)))]).astype(np.int64)
VARIANT, THETA, ROTARY_DIM = "default", 10_000.0, 128


def _floor(curves: dict) -> float:
    """Where an exact result (error 0) is drawn on the logarithmic axis: a decade below every other value."""
    values = [v for c in curves.values() for v in (*c["error"], *c["budget"]) if 0 < v < np.inf]
    return 10.0 ** (np.floor(np.log10(min(values))) - 1) if values else 1e-18


def figure_layout(backend) -> str | None:
    """The first layout the backend's ``apply_rope`` supports (None if none)."""
    from ..backends.protocol import supports

    return next((name for name in LAYOUTS if supports(backend, "apply_rope", layout=name) is None), None)


def error_vs_position(backend, dtype: str, *, rotary_dim: int = ROTARY_DIM, theta: float = THETA) -> dict:
    """``{"positions", "error", "budget", "layout"}``: per position, max |backend - oracle| / (m r) and the
    budget (same units)."""
    layout = figure_layout(backend)
    freqs = inv_freq(VARIANT, rotary_dim, theta=theta)
    x = np.random.default_rng(0).standard_normal((len(POSITIONS), rotary_dim))
    native = backend.to_backend(x, dtype)
    xr = np.asarray(backend.to_numpy(native), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = np.asarray(backend.to_numpy(backend.function("apply_rope")(native, POSITIONS, freqs, layout=layout)))
    expected = apply_rope(xr, POSITIONS, freqs, layout=layout)
    a_in, b_in = pair_slices(rotary_dim, layout)
    a_out, b_out = pair_slices(rotary_dim, layout, output=True)
    r = np.empty_like(xr)
    r[:, a_out] = r[:, b_out] = freqs.attention_factor * np.hypot(xr[:, a_in], xr[:, b_in])  # m r per output
    error = np.nan_to_num(np.abs(out - expected) / np.where(r > 0, r, 1.0), nan=np.inf).max(axis=1)
    u, ua = tol.unit_roundoff(dtype), tol.unit_roundoff(backend.angle_dtype)
    budget = tol.C_DTYPE * u + tol.C_ANGLE * ua * (1.0 + POSITIONS * freqs.inv_freq.max())
    return {"positions": POSITIONS, "error": error, "budget": budget, "layout": layout}


def plot(curves: dict, path, title: str) -> bool:
    """Write the figure (one colour per dtype: error dots, budget line); False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    floor = _floor(curves)
    for (dtype, c), colour in zip(curves.items(), ("C0", "C1", "C2", "C3")):
        ax.plot(c["positions"], np.clip(c["error"], floor, 10.0), "o", ms=3, color=colour, label=f"{dtype} error")
        ax.plot(c["positions"], c["budget"], "-", color=colour, label=f"{dtype} budget [N-ROPE-1]")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_yscale("log")
    ax.set_xlim(left=0)
    ax.set_xlabel("position p (0, then 2^0 .. 2^20; symmetric-log axis)")
    ax.set_ylabel("max |backend - oracle| / (m r)")
    ax.set_title(title, fontsize=10)
    ax.text(0.99, 0.01, "m = the magnitude (attention_factor, 1 here); r = the norm of the pair the output belongs "
            f"to;\nan exact result (error 0) is drawn at {floor:g}", transform=ax.transAxes,
            fontsize=7, va="bottom", ha="right")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True

def write_figure(backend, report_dir: Path) -> str:
    """Write DIR/error_vs_position.png; return a line saying what happened."""
    if "apply_rope" not in backend.capabilities:
        return f"no figure: {backend.name} does not provide apply_rope"
    layout = figure_layout(backend)
    if layout is None:
        return f"no figure: {backend.name} supports no layout of apply_rope"
    curves = {dtype: error_vs_position(backend, dtype) for dtype in backend.dtypes}
    path = report_dir / "error_vs_position.png"
    title = (f"{backend.name}: apply_rope error against position\nvariant {VARIANT}, theta = {THETA:g}, "
             f"head dim = rotary dim = {ROTARY_DIM}, layout {layout!r}, angle dtype {backend.angle_dtype}")
    if not plot(curves, path, title):
        return "no figure: matplotlib is not installed (refrope's 'report' extra); error_vs_position.png skipped"
    return f"figure written to {path}"
