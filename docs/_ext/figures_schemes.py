"""The figures of the schemes' families pages (docs/families/biases.md, extrapolation.md, dual_chunk.md), drawn from
the oracle by ``refrope_figures``.

Figures (name: what it shows):

* ``biases``: :math:`b(r)` of ALiBi (the 8 slopes of 8 heads), KERPLE (power and log) and Sandwich.
* ``xpos_decay``: xPos's factor :math:`\\zeta_i^{r/B}` per pair against the distance.
* ``local_masks``: which keys a query sees under a sliding window, Llama 4's chunks, and HWFA's stacked windows.
* ``dca_positions``: the relative positions of RoPE and of dual-chunk attention, side by side.
"""

from __future__ import annotations

import numpy as np

import refrope
from refrope import bias as bs
from refrope import hwfa
from refrope.dual_chunk import dual_chunk_positions

SCHEME_NAMES = ("biases", "xpos_decay", "local_masks", "dca_positions")
DCA_CHUNK, DCA_LOCAL, DCA_LENGTH = 8, 2, 20


def bias_curves(distance: int = 64) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Per panel: the distances and the curves ``label -> b(r)`` (from refrope.bias)."""
    r = np.arange(distance + 1, dtype=np.float64)
    slopes = bs.alibi_slopes(8)
    return {
        "ALiBi, the slopes of 8 heads": (r, {f"s = 2^-{h + 1}": bs.alibi(s)(r) for h, s in enumerate(slopes)}),
        "KERPLE power, r1 = 1": (r, {f"r2 = {p:g}": bs.kerple_power(1.0, p)(r) for p in (0.25, 0.5, 1.0, 1.5)}),
        "KERPLE log, r1 = 1": (r, {f"r2 = {p:g}": bs.kerple_log(1.0, p)(r) for p in (0.1, 1.0, 10.0)}),
        "Sandwich, lam = 1": (r, {f"D = {dim}": bs.sandwich(1.0, dim)(r) for dim in (8, 32, 128)}),
    }


def xpos_factors(d: int = 64, distance: int = 4096, base: float = 512.0) -> tuple[np.ndarray, np.ndarray]:
    """Distances r and :math:`\\zeta_i^{r/B}` (shape ``(len(r), d/2)``): the factor of pair i at distance r."""
    r = np.linspace(0.0, distance, 257)
    return r, refrope.xpos_scale(r, d, scale_base=base)


def local_masks(n: int = 24, window: int = 4, chunk: int = 6, layers: int = 3) -> dict[str, np.ndarray]:
    """Boolean ``(n, n)``: which keys a query sees (sliding window, chunks) or depends on (HWFA's last window layer)."""
    zeros = np.zeros((1, n, 2))
    seen = {
        f"sliding window N = {window}": refrope.attention_probs(zeros, zeros, None, relpos="none",
                                                                sliding_window=window)[0] > 0,
        f"Llama 4 chunks, C = {chunk}": refrope.attention_probs(zeros, zeros, None, relpos="none",
                                                                chunk_size=chunk)[0] > 0,
    }
    field = hwfa.receptive_field(window, layers)
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    seen[f"HWFA: {layers} windows of {window} reach {field}"] = (j <= i) & (i - field < j)
    return seen


def dca_matrices() -> dict[str, np.ndarray]:
    """The causal relative positions of RoPE (p - t) and of dual-chunk attention (chunk 8, local 2)."""
    p = np.arange(DCA_LENGTH)
    return {"RoPE: p - t": (p[:, None] - p[None, :]).astype(float),
            f"dual chunk: chunk_size {DCA_CHUNK}, local_size {DCA_LOCAL}":
                dual_chunk_positions(p, p, chunk_size=DCA_CHUNK, local_size=DCA_LOCAL)}


def _draw_biases(plt):
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4))
    for ax, (title, (r, curves)) in zip(axes.flat, bias_curves().items()):
        for label, values in curves.items():
            ax.plot(r, values, lw=1.1, label=label)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("distance |r|")
        ax.set_ylabel("b(r)")
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def _draw_xpos(plt):
    r, factors = xpos_factors()
    fig, ax = plt.subplots(figsize=(8, 4))
    for i in range(0, factors.shape[1], 4):
        ax.semilogy(r, factors[:, i], lw=1.0, label=f"pair {i}")
    ax.set_xlabel("distance m - n")
    ax.set_ylabel("ζ_i^((m - n)/B)")
    ax.set_title("xPos: the decay of each pair's score (d = 64, B = 512, γ = 0.4)")
    ax.legend(fontsize=7, ncol=4)
    return fig


def _draw_masks(plt):
    masks = local_masks()
    fig, axes = plt.subplots(1, len(masks), figsize=(12, 4.2))
    for ax, (title, mask) in zip(axes, masks.items()):
        ax.imshow(mask, cmap="Blues", vmin=0, vmax=1.3)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("key j")
        ax.set_ylabel("query i")
        ax.grid(False)
    fig.tight_layout()
    return fig


def _draw_dca(plt):
    mats = dca_matrices()
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.4))
    for ax, (title, matrix) in zip(axes, mats.items()):
        causal = np.arange(DCA_LENGTH)[:, None] >= np.arange(DCA_LENGTH)[None, :]
        shown = np.ma.masked_where(~causal, matrix)
        image = ax.imshow(shown, cmap="viridis")
        for i, j in zip(*np.nonzero(causal)):
            ax.text(j, i, f"{matrix[i, j]:.0f}", ha="center", va="center", fontsize=5,
                    color="white" if matrix[i, j] < 0.5 * shown.max() else "black")
        ax.set_xticks(range(0, DCA_LENGTH, 2))
        ax.set_yticks(range(0, DCA_LENGTH, 2))
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("key t")
        ax.set_ylabel("query p")
        ax.grid(False)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


SCHEME_DRAW = {"biases": _draw_biases, "xpos_decay": _draw_xpos, "local_masks": _draw_masks,
               "dca_positions": _draw_dca}
