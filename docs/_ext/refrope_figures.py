"""Sphinx extension: draw the documentation's figures from the oracle at build time.

Every figure is computed with ``refrope`` (float64) and written by matplotlib (Agg) into
``docs/_generated/figures/`` when the builder starts; the pages include them from there. No image
is committed, so a figure cannot drift from the code it shows. A figure is rewritten only when its
bytes change (atomic replace), so incremental builds stay incremental.

Figures (name: what it shows):

* ``freq_ratio``: :math:`\\omega'_i/\\omega_i` per pair for every scaling variant, one axis.
* ``relpos_matrices``: :math:`P_{ij} = f(i - j)` for RoPE, PI, ReRoPE, Leaky and inverse Leaky ReRoPE.
* ``decay``: RoPE's long-range decay bound :math:`\\frac{1}{d/2}\\sum_{j=1}^{d/2}|S_j|` (kexue 8265).
* ``attention_patterns``: :func:`refrope.attention_probs` under each relative-position map.
* ``precision``: float32 / bfloat16 error of a rotation against the float64 oracle, with the budget line.
* ``mrope_axes``, ``mrope_positions``, ``vision_rope``: the multimodal figures (``figures_multimodal``).
* the schemes' figures (biases, xPos, local masks, dual-chunk positions): ``figures_schemes``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from figures_multimodal import FIGURES as MULTIMODAL_FIGURES  # docs/_ext is on the path
from figures_schemes import SCHEME_DRAW, SCHEME_NAMES  # docs/_ext is on sys.path

import refrope
from refrope import budgets
from refrope import relpos as rp

D = 128  # rotary dim of the frequency figures (LLaMA's head size)
THETA = 10000.0
K = 8.0  # extension factor
L_ORIG = 2048  # pre-training length of the frequency figures
FIGURE_NAMES = ("freq_ratio", "relpos_matrices", "decay", "attention_patterns", "precision", *MULTIMODAL_FIGURES,
                *SCHEME_NAMES)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3})
    return plt


def _linear_weights(n: int) -> np.ndarray:
    """Weights :math:`w_m = 2(n + 1 - m)/(n(n + 1))`, :math:`m = 1..n`: decreasing, summing to 1.

    Radices :math:`\\lambda_m = k^{w_m}` then satisfy 9706 eq. (11): :math:`\\prod\\lambda_m = k`, non-increasing,
    :math:`\\ge 1`.
    """
    m = np.arange(1, n + 1, dtype=np.float64)
    return 2.0 * (n + 1 - m) / (n * (n + 1))


def ratio_curves() -> dict[str, np.ndarray]:
    """:math:`\\omega'_i / \\omega_i` (``d = 128``, ``theta = 1e4``, ``k = 8``, ``L = 2048``) per variant."""
    base = refrope.inv_freq("default", D, theta=THETA).inv_freq
    half = D // 2
    yarn_like = {"factor": K, "original_max_position_embeddings": L_ORIG}
    settings = {
        "linear (PI)": ("linear", {"factor": K}),
        "ntk_aware": ("ntk_aware", {"factor": K}),
        "ntk_base": ("ntk_base", {"factor": K}),
        "ntk_fixed": ("ntk_fixed", {"factor": K}),
        "ntk_mixed (b=0.625)": ("ntk_mixed", {"factor": K, "b": 0.625}),
        "mixed_radix (k^(linear weights))": ("mixed_radix", {"radices": K ** _linear_weights(half)}),
        "dynamic_ntk (seq=4L)": ("dynamic_ntk", {**yarn_like, "seq_len": 4 * L_ORIG}),
        "ntk_by_parts": ("ntk_by_parts", yarn_like),
        "yarn": ("yarn", yarn_like),
        "dynamic_yarn (seq=4L)": ("dynamic_yarn", {"original_max_position_embeddings": L_ORIG,
                                                   "seq_len": 4 * L_ORIG}),
        "llama3 (1, 4)": ("llama3", {**yarn_like, "low_freq_factor": 1.0, "high_freq_factor": 4.0}),
        "longrope (long, illustrative)": ("longrope", {
            "short_factor": np.ones(half), "long_factor": np.geomspace(1.0, K, half),
            "original_max_position_embeddings": L_ORIG, "factor": K, "seq_len": 4 * L_ORIG}),
        "proportional (ρ=0.5; 0 beyond)": ("proportional", {"partial_rotary_factor": 0.5}),
    }
    return {label: refrope.inv_freq(name, D, theta=THETA, **params).inv_freq / base
            for label, (name, params) in settings.items()}


def decay_curve(d: int = D, max_distance: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Relative distances ``0..max_distance`` and :math:`\\frac{1}{d/2}\\sum_{j=1}^{d/2}|S_j|`,
    :math:`S_j = \\sum_{i<j} e^{\\mathrm{i} r \\omega_i}`."""
    omega = refrope.inv_freq("default", d, theta=THETA).inv_freq
    r = np.arange(max_distance + 1, dtype=np.float64)
    partial_sums = np.cumsum(np.exp(1j * r[:, None] * omega[None, :]), axis=1)
    return r, np.abs(partial_sums).mean(axis=1)


def relpos_maps(window: float = 4, factor: float = 4) -> dict[str, object]:
    """The five maps the heatmaps and the attention patterns show, with the parameters in their labels."""
    return {
        "RoPE": rp.rope(),
        f"PI (k={factor:g})": rp.linear(factor),
        f"ReRoPE (w={window:g})": rp.rerope(window),
        f"Leaky ReRoPE (w={window:g}, k={factor:g})": rp.leaky_rerope(window, factor),
        f"inv. Leaky ReRoPE (w={window:g}, k=1/{factor:g})": rp.inv_leaky_rerope(window, 1 / factor),
    }


def _round_bf16(x: np.ndarray) -> np.ndarray:
    """Round float32 values to bfloat16 (round to nearest, ties to even), returned as float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def precision_errors(positions: np.ndarray, d: int = D) -> dict[str, np.ndarray]:
    """Largest rotation error over the pairs of a unit vector, per position, for three low-precision pipelines.

    ``float32``: :math:`\\omega`, :math:`p`, :math:`p\\omega`, cos, sin and the rotation in float32.
    ``bfloat16 (angles float32)``: as float32, then cos, sin, the input and the output rounded to
    bfloat16 (HF's native path). ``bfloat16 positions``: the positions themselves rounded to bfloat16
    first (the bug of huggingface/transformers#29285 and EleutherAI/gpt-neox#1003).
    """
    freqs = refrope.inv_freq("default", d, theta=THETA)
    x = np.concatenate([np.ones(d // 2), np.zeros(d // 2)])  # half layout: every pair (x_i, x_{i+d/2}) = (1, 0)
    exact = refrope.apply_rope(np.broadcast_to(x, (positions.size, d)), positions, freqs)
    omega32 = freqs.inv_freq.astype(np.float32)

    def rotate(p32: np.ndarray, bf16: bool) -> np.ndarray:
        angle = p32[:, None] * omega32[None, :]
        cos, sin = np.cos(angle), np.sin(angle)
        if bf16:
            cos, sin = _round_bf16(cos), _round_bf16(sin)
        a, b = np.float32(1.0), np.float32(0.0)  # the half layout's pair (x_i, x_{i+d/2}) = (1, 0)
        out = np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=1)
        return _round_bf16(out) if bf16 else out

    p32 = positions.astype(np.float32)
    results = {
        "float32": rotate(p32, False),
        "bfloat16 (angles in float32)": rotate(p32, True),
        "bfloat16 positions (bug)": rotate(_round_bf16(p32), True),
    }
    return {label: np.abs(out.astype(np.float64) - exact).max(axis=1) for label, out in results.items()}


def precision_budget(positions: np.ndarray, dtype: str, angle_dtype: str = "float32", d: int = D) -> np.ndarray:
    """The budget line drawn: :func:`refrope.budgets.rope_budget` for a unit pair, largest over the pairs.

    For a unit pair it is :math:`C_d u + C_a u_a (1 + |p\\,\\omega_i|)` ([N-ROPE-1]), :math:`u` the unit roundoff
    of ``dtype`` and :math:`u_a` that of ``angle_dtype``.
    """
    freqs = refrope.inv_freq("default", d, theta=THETA)
    x = np.broadcast_to(np.concatenate([np.ones(d // 2), np.zeros(d // 2)]), (positions.size, d))
    return budgets.rope_budget(x, positions, freqs, dtype=dtype, angle_dtype=angle_dtype).max(axis=-1)


def _draw_freq_ratio(plt):
    fig, ax = plt.subplots(figsize=(8, 4.6))
    styles = ["-", "--", "-.", ":"]
    for n, (label, ratio) in enumerate(ratio_curves().items()):
        shown = np.where(ratio > 0, ratio, np.nan)  # a zero frequency (proportional) has no place on a log axis
        ax.plot(np.arange(ratio.size), shown, styles[n % 4], label=label, lw=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("pair index i (high frequency left, low frequency right)")
    ax.set_ylabel(r"$\omega'_i / \omega_i$")
    ax.set_title(f"Scaled over default frequencies: d={D}, θ={THETA:g}, k={K:g}, L={L_ORIG}")
    ax.axhline(1.0, color="k", lw=0.6)
    ax.axhline(1.0 / K, color="k", lw=0.6)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return fig


def _grid(plt, count: int):
    """A 2 x 3 grid of square panels; the unused ones are switched off."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 8.6))
    for ax in axes.flat[count:]:
        ax.axis("off")
    return fig, axes.flat[:count]


def _draw_relpos(plt, length: int = 12):
    maps = relpos_maps(window=4, factor=4)
    fig, axes = _grid(plt, len(maps))
    pos = np.arange(length)
    for ax, (label, f) in zip(axes, maps.items()):
        matrix = refrope.relative_positions(f, pos, pos)
        shown = np.ma.masked_where(pos[:, None] < pos[None, :], matrix)  # the causal lower triangle
        image = ax.imshow(shown, cmap="viridis")
        for i in range(length):
            for j in range(i + 1):
                ax.text(j, i, f"{matrix[i, j]:.3g}", ha="center", va="center", fontsize=5.5,
                        color="white" if matrix[i, j] < 0.5 * shown.max() else "black")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("key j")
        ax.set_ylabel("query i")
        ax.grid(False)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def _draw_decay(plt):
    r, curve = decay_curve()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(r, curve, lw=1.2)
    ax.set_xlabel("relative distance m - n")
    ax.set_ylabel("(1/(d/2)) Σ_j |S_j|")
    ax.set_title(f"RoPE long-range decay bound, d={D}, θ={THETA:g}")
    return fig


def _draw_attention(plt, length: int = 48, d: int = 32):
    maps = relpos_maps(window=8, factor=4)
    freqs = refrope.inv_freq("default", d, theta=THETA)
    q = np.ones((1, length, d))  # identical content everywhere: the pattern is position alone
    fig, axes = _grid(plt, len(maps))
    for ax, (label, f) in zip(axes, maps.items()):
        probs = refrope.attention_probs(q, q, freqs, relpos=f, scale=0.25)[0]
        image = ax.imshow(probs, cmap="magma", vmin=0.0, vmax=np.quantile(probs[probs > 0], 0.98))
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("key j")
        ax.set_ylabel("query i")
        ax.grid(False)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def _draw_precision(plt):
    positions = np.unique(np.round(np.geomspace(1.0, 2.0**20, 400)))
    errors = precision_errors(positions)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for label, err in errors.items():
        ax.loglog(positions, np.maximum(err, 1e-12), lw=1.0, label=label)
    ax.loglog(positions, precision_budget(positions, "float32"), "k--", lw=1.0, label="budget, float32")
    ax.loglog(positions, precision_budget(positions, "bfloat16"), "k:", lw=1.2,
              label="budget, bfloat16 (angles in float32)")
    ax.set_xlabel("position p")
    ax.set_ylabel("max |error| over the pairs (unit input)")
    ax.set_title(f"Rotation error against the float64 oracle, d={D}, θ={THETA:g}")
    ax.legend(fontsize=7)
    return fig


DRAW = {"freq_ratio": _draw_freq_ratio, "relpos_matrices": _draw_relpos, "decay": _draw_decay,
        "attention_patterns": _draw_attention, "precision": _draw_precision, **MULTIMODAL_FIGURES, **SCHEME_DRAW}


def write_figures(target: Path) -> list[Path]:
    """Draw every figure into ``target`` as PNG; a file is replaced only when its bytes change."""
    plt = _plt()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FIGURE_NAMES:
        fig = DRAW[name](plt)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        plt.close(fig)
        path = target / f"{name}.png"
        data = buffer.getvalue()
        if not path.exists() or path.read_bytes() != data:
            tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        written.append(path)
    return written


def _on_builder_inited(app) -> None:
    write_figures(Path(app.srcdir) / "_generated" / "figures")


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
