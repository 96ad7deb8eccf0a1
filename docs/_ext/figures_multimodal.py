"""The multimodal figures of the documentation, drawn from the oracle (registered in ``refrope_figures``).

* ``mrope_axes``: which position axis drives each pair, for the M-RoPE rules and the engine tables;
* ``mrope_positions``: the (t, h, w) position ids of a text, image, text, video, text sequence;
* ``vision_rope``: the token order of each vision tower on its patch grid, and its pair-to-axis map.
"""

from __future__ import annotations

import numpy as np

import refrope
from refrope.multimodal import engine_axes

AXIS_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]  # t / row, h / column, w, e
SEGMENTS = [("text", 4), ("image", 1, 6, 8), ("text", 3), ("video", 6, 4, 4), ("text", 3)]
TABLES = [  # (label, axes) for a 128-dim head: 64 pairs
    ("M-RoPE blocked, Qwen2-VL [16, 24, 24]", refrope.mrope_axes([16, 24, 24])),
    ("M-RoPE interleaved, Qwen3-VL [24, 20, 20]", refrope.mrope_axes([24, 20, 20], "interleaved")),
    ("ggml IMROPE [24, 20, 20, 0] (e: pairs 61, 62)", engine_axes("ggml_imrope", [24, 20, 20, 0], rotary_dim=128)),
    ("vLLM Ernie-4.5-VL [h 22, w 22, t 20]", engine_axes("ernie45_vl", [22, 22, 20], rotary_dim=128)),
    ("vLLM openPangu [22, 21, 21]", engine_axes("openpangu", [22, 21, 21], rotary_dim=128)),
    ("vLLM XD-RoPE (Hunyuan-VL, streams p, w, h, t)", engine_axes("xdrope", [16, 16, 16, 16], rotary_dim=128)),
]


def _strips(ax, rows, names):
    from matplotlib.colors import ListedColormap

    image = np.array([np.asarray(axes, dtype=float) for _, axes in rows])
    ax.imshow(image, aspect="auto", cmap=ListedColormap(AXIS_COLORS), vmin=-0.5, vmax=3.5, interpolation="nearest")
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    ax.set_xlabel("pair index i (frequency omega_i = theta^(-2i/d) unless noted)")
    ax.grid(False)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=c, label=n) for c, n in zip(AXIS_COLORS, names)], fontsize=8, ncol=len(names),
              loc="upper center", bbox_to_anchor=(0.5, -0.32))


def draw_mrope_axes(plt):
    fig, ax = plt.subplots(figsize=(10, 3.6))
    _strips(ax, TABLES, ["stream 0 (t)", "stream 1 (h)", "stream 2 (w)", "stream 3 (ggml's e)"])
    ax.set_title("Which position axis drives each pair (head_dim 128, 64 pairs)")
    fig.tight_layout()
    return fig


def draw_mrope_positions(plt):
    by_max, _ = refrope.mrope_positions(SEGMENTS)
    by_spatial, _ = refrope.mrope_positions(SEGMENTS, resume="spatial")
    fig, axes = plt.subplots(2, 1, figsize=(10, 5.8), sharex=True)
    token = np.arange(by_max.shape[1])
    for ax, positions, title in ((axes[0], by_max, 'resume="max" (Qwen reference, transformers 4.x, vLLM)'),
                                 (axes[1], by_spatial, 'resume="spatial" (transformers 5.x get_rope_index)')):
        for row, (name, marker) in enumerate(zip("thw", "os^")):
            ax.plot(token, positions[row], marker=marker, ms=3.5, lw=0.8, color=AXIS_COLORS[row], label=name)
        start = 0
        for seg in SEGMENTS:
            n = seg[1] if seg[0] == "text" else seg[1] * (seg[2] // 2) * (seg[3] // 2)
            if seg[0] != "text":
                ax.axvspan(start - 0.5, start + n - 0.5, color="0.9", zorder=0)
                ax.text(start + n / 2, 0.5, f"{seg[0]}: grid {seg[1]} x {seg[2]} x {seg[3]}", ha="center",
                        fontsize=8)
            start += n
        ax.set_ylabel("position id")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8, loc="upper left")
    axes[1].set_xlabel("token index (2 x 2 patches merged per token)")
    fig.tight_layout()
    return fig


def draw_vision_rope(plt):
    d = 16
    towers = [("qwen2_vl", (4, 4)), ("pixtral", (3, 4)), ("llama4", (3, 3))]
    fig, axes = plt.subplots(2, 3, figsize=(12, 7.0), gridspec_kw={"height_ratios": [3, 1]})
    for ax, (kind, grid) in zip(axes[0], towers):
        v = refrope.vision_rope(kind, head_dim=d, grid=grid)
        rows, cols = v.positions
        offset = 1 if kind == "llama4" else 0
        order = np.full(grid, -1)
        patches = v.n_tokens - (1 if kind == "llama4" else 0)
        for n in range(patches):
            order[rows[n] - offset, cols[n] - offset] = n
        ax.imshow(order, cmap="viridis")
        for (r, c), n in np.ndenumerate(order):
            ax.text(c, r, f"{n}\n({r + offset},{c + offset})", ha="center", va="center", fontsize=7,
                    color="white" if n < patches / 2 else "black")
        note = ", then class (0, 0)" if kind == "llama4" else ""
        ax.set_title(f"{kind}: token order (row, col){note}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    for ax, (kind, grid) in zip(axes[1], towers):
        v = refrope.vision_rope(kind, head_dim=d, grid=grid)
        exponents = -np.log(v.freqs) / np.log(v.theta) * d / 2  # omega = theta^(-2j/d): j
        _strips(ax, [(f"{v.layout}", v.axes)], ["row", "column"])
        for i, j in enumerate(exponents):
            ax.text(i, 0, f"{int(round(j)) + 0}", ha="center", va="center", fontsize=8, color="white")
        ax.set_xlabel("pair; label j: omega = theta^(-2j/d)", fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = {"mrope_axes": draw_mrope_axes, "mrope_positions": draw_mrope_positions, "vision_rope": draw_vision_rope}
"""Figure name -> drawing function (``plt -> Figure``)."""
