r"""``ggml``: ggml's own CPU RoPE kernel (``ggml_rope_ext``) driven through the ``ggml-python`` bindings.

* ``apply_rope``: one ``ggml_rope_ext`` graph per call on the CPU backend, mode ``GGML_ROPE_TYPE_NEOX`` for the
  ``"half"`` layout and ``GGML_ROPE_TYPE_NORMAL`` for ``"interleaved"``; the activation is an F32 or F16 tensor
  of shape ``[D, 1, N, 1]`` (one row per position), positions an I32 tensor, and the frequency parameters those
  of :func:`refrope.backends.ggml_params.rope_ext_params` (llama.cpp's mapping). ggml rotates the leading
  ``n_dims`` coordinates and copies the rest, so there is no ``rotary_offset``;
* ``cos_sin``: the same kernel applied to the unit pairs :math:`(1, 0)`, which returns
  :math:`(m\cos\phi, m\sin\phi)` exactly (:math:`1\cdot c - 0\cdot s = c`), rounded to the requested dtype;
* ``apply_mrope``: ``ggml_rope_multi``, ``GGML_ROPE_TYPE_MROPE`` (blocked) or ``GGML_ROPE_TYPE_IMROPE``
  (interleaved), positions as ggml's four rows t, h, w, e (:data:`MROPE_MODES`);
* ``apply_vision_rope``: ``ggml_rope_multi`` in ``GGML_ROPE_TYPE_VISION`` mode for the Qwen2-VL, Pixtral and
  Llama 4 towers (:meth:`GgmlBackend.apply_vision_rope`).

Native arrays are NumPy arrays of the dtype under test (ggml's CPU rope takes F32 and F16 only). ggml builds
:math:`\theta_i = p\,b^{-2i/d}` by repeated float32 multiplication by ``powf(freq_base, -2/n_dims)``, so this
backend declares ``angle_method = "recurrence"`` and gets the derived budget term of [N-ROPE-3].

Install: ``pip install 'refrope[ggml]'`` (builds ggml from source with a C compiler and CMake).
Spec: docs/spec/conformance.md [K-PROTO-1], [K-ADAPT-1]; docs/spec/numerics.md [N-ROPE-3];
findings in docs/known_libraries.md.
Source: ggml ``src/ggml-cpu/ops.cpp`` (``ggml_compute_forward_rope_flt``, ``rotate_pairs``), ggml 0.15.3 as
vendored by ggml-python 0.0.45.
"""

from __future__ import annotations

import ctypes
from importlib.metadata import version
from typing import Any

import numpy as np

try:
    import ggml
    from ggml import utils as ggml_utils
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("the ggml backend needs the ggml-python bindings: pip install 'refrope[ggml]' "
                      f"(it builds ggml from source with a C compiler and CMake) ({exc})") from exc

from .ggml_params import RopeExtParams, rope_ext_params

__all__ = ["GgmlBackend", "make_backend", "MODES", "MROPE_MODES", "run_rope_ext"]

MODES = {"half": ggml.GGML_ROPE_TYPE_NEOX, "interleaved": ggml.GGML_ROPE_TYPE_NORMAL}
"""The ggml rope mode of each refrope layout this backend drives."""
MROPE_MODES = {"blocked": ggml.GGML_ROPE_TYPE_MROPE, "interleaved": ggml.GGML_ROPE_TYPE_IMROPE}
r"""The ggml rope mode of each refrope M-RoPE mode. IMROPE gives pair :math:`i` (sector :math:`i \bmod \sum s`) the
t, h or w angle by refrope's interleaved rule where that rule names the axis by :math:`i \bmod 3` within
:math:`3 s_a`, and otherwise a fourth position row ``e`` (Qwen3-VL's pairs 61 and 62 of 64), where transformers
keeps t: this adapter passes the t positions as ``e``, so the kernel's formula is compared, not a caller's choice of
``e`` (ggml ``src/ggml-cpu/ops.cpp``, ``ggml_mrope_cache_init``)."""

_NUMPY = {"float32": np.float32, "float16": np.float16}
_TYPES = {np.dtype(np.float32): ggml.GGML_TYPE_F32, np.dtype(np.float16): ggml.GGML_TYPE_F16}


def _positions(positions: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Positions as ggml's int32 row positions, broadcast to the rows of ``x``."""
    pos = np.asarray(positions, dtype=np.float64)
    if not np.all(np.isfinite(pos)) or np.any(pos != np.round(pos)) or np.any(np.abs(pos) >= 2**31):
        raise ValueError(f"ggml takes int32 positions: whole numbers below 2^31 in magnitude, got {positions!r}")
    return np.broadcast_to(pos, shape).reshape(-1).astype(np.int32)


def run_rope_ext(x: np.ndarray, positions: np.ndarray, n_dims: int, mode: int, params: RopeExtParams,
                 sections: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Run ``ggml_rope_ext`` on the rows of ``x`` (shape ``(N, D)``, float32 or float16) at int32 ``positions``
    (shape ``(N,)``) on ggml's CPU backend, one thread; returns a new array of ``x``'s dtype. With ``sections``
    (four pair counts) it runs ``ggml_rope_multi`` instead, ``positions`` then ``(4, N)``: ggml's t, h, w, e rows.

    >>> out = run_rope_ext(np.array([[1.0, 0.0]], np.float32), np.array([0], np.int32), 2, 2, RopeExtParams(1e4))
    >>> out.tolist()
    [[1.0, 0.0]]
    """
    rows, width = x.shape
    size = 2 * x.nbytes + 4 * positions.size + 2 * width + 16 * ggml.ggml_tensor_overhead() + ggml.ggml_graph_overhead()
    ctx = ggml.ggml_init(ggml.ggml_init_params(mem_size=size + 4096, mem_buffer=None, no_alloc=False))
    if ctx is None:
        raise MemoryError(f"ggml_init could not allocate {size} bytes")
    try:
        a = ggml.ggml_new_tensor_4d(ctx, _TYPES[x.dtype], width, 1, rows, 1)
        ggml_utils.to_numpy(a)[...] = x.reshape(rows, 1, width)
        b = ggml.ggml_new_tensor_1d(ctx, ggml.GGML_TYPE_I32, positions.size)
        ggml_utils.to_numpy(b)[...] = positions.reshape(-1)  # (4, N): the t rows, then h, w, e (ggml's order)
        c = None
        if params.freq_factors is not None:  # ggml's cache loop reads a factor per pair of the whole row
            c = ggml.ggml_new_tensor_1d(ctx, ggml.GGML_TYPE_F32, max(n_dims, width) // 2)
            ggml_utils.to_numpy(c)[...] = 1.0
            ggml_utils.to_numpy(c)[:len(params.freq_factors)] = params.freq_factors
        scalars = (params.n_ctx_orig, params.freq_base, params.freq_scale, params.ext_factor, params.attn_factor,
                   params.beta_fast, params.beta_slow)
        if sections is None:
            out = ggml.ggml_rope_ext(ctx, a, b, c, n_dims, mode, *scalars)
        else:
            out = ggml.ggml_rope_multi(ctx, a, b, c, n_dims, (ctypes.c_int * 4)(*sections), mode, *scalars)
        graph = ggml.ggml_new_graph(ctx)
        ggml.ggml_build_forward_expand(graph, out)
        status = ggml.ggml_graph_compute_with_ctx(ctx, graph, 1)
        if status != ggml.GGML_STATUS_SUCCESS:
            raise RuntimeError(f"ggml_graph_compute_with_ctx failed with status {status}")
        return np.array(ggml_utils.to_numpy(out), copy=True).reshape(rows, width)
    finally:
        ggml.ggml_free(ctx)


def _in_halves(rows: np.ndarray, d: int, layout: str, rotate) -> np.ndarray:
    """``rotate`` (a NeoX-pair kernel) on ``rows`` ``(N, D)`` in ``layout``: for ``"interleaved"`` the pairs
    ``(2i, 2i + 1)`` of the rotary slice ``[0, d)`` are gathered into halves and the result scattered back (exact
    copies); ``"half"`` as is."""
    if layout != "interleaved":
        return rotate(rows)
    order = np.r_[0:d:2, 1:d:2, d:rows.shape[-1]]
    return rotate(np.ascontiguousarray(rows[:, order]))[:, np.argsort(order)]


class GgmlBackend:
    """The backend object (see :func:`make_backend`)."""

    name = "ggml"
    dtypes = ("float32", "float16")
    capabilities = frozenset({"apply_rope", "cos_sin", "apply_mrope", "mrope:blocked", "mrope:interleaved",
                              "apply_vision_rope", "vision:qwen2_vl", "vision:pixtral", "vision:llama4",
                              "layout:half", "layout:interleaved", "batch", "batch_positions"})
    angle_dtype = "float32"
    angle_method = "recurrence"

    def __init__(self) -> None:
        self.versions = {"ggml-python": version("ggml-python"), "ggml": _ggml_version()}

    @staticmethod
    def to_backend(array: np.ndarray, dtype: str) -> np.ndarray:
        if dtype not in _NUMPY:
            raise ValueError(f"ggml's CPU rope takes float32 and float16 tensors, got dtype={dtype!r}")
        return np.array(array, dtype=_NUMPY[dtype], copy=True)

    to_numpy = staticmethod(np.asarray)

    @staticmethod
    def _mode(layout: str) -> int:
        if layout not in MODES:
            raise ValueError(f"ggml_rope_ext has the layouts {sorted(MODES)} (NEOX, NORMAL), got {layout!r}")
        return MODES[layout]

    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        if rotary_offset:
            raise ValueError(f"ggml rotates the leading n_dims coordinates only, got rotary_offset={rotary_offset}")
        x = np.asarray(x)
        d = freqs.rotary_dim
        if x.ndim < 1 or x.shape[-1] < d:
            raise ValueError(f"x must have at least rotary_dim = {d} coordinates on its last axis, got {x.shape}")
        rows = x.reshape(-1, x.shape[-1])
        pos = _positions(positions, x.shape[:-1])
        if rows.shape[0] == 0:
            return x.copy()
        return run_rope_ext(np.ascontiguousarray(rows), pos, d, self._mode(layout), rope_ext_params(freqs)
                            ).reshape(x.shape)

    def apply_mrope(self, x, positions, freqs, *, sections, mode="blocked", layout="half", rotary_offset=0):
        """``ggml_rope_multi``: ``GGML_ROPE_TYPE_MROPE`` (blocked, up to four sections) or ``GGML_ROPE_TYPE_IMROPE``
        (interleaved), whose pairs are NeoX's; the ``"interleaved"`` layout is gathered into halves and back (exact
        copies). ggml's fourth row ``e`` gets the t positions (see :data:`MROPE_MODES`)."""
        if rotary_offset:
            raise ValueError(f"ggml rotates the leading n_dims coordinates only, got rotary_offset={rotary_offset}")
        self._mode(layout)
        if mode not in MROPE_MODES:
            raise ValueError(f"ggml_rope_multi has the M-RoPE modes {sorted(MROPE_MODES)}, got mode={mode!r}")
        secs = [int(v) for v in sections]
        if len(secs) > 4 or (mode == "interleaved" and len(secs) != 3):
            raise ValueError(f"ggml_rope_multi takes up to four sections (three for interleaved), got {secs}")
        x = np.asarray(x)
        d = freqs.rotary_dim
        if x.ndim < 1 or x.shape[-1] < d or 2 * sum(secs) != d:
            raise ValueError(f"sections {secs} must sum to rotary_dim/2 = {d // 2} pairs within x.shape={x.shape}")
        pos = np.asarray(positions)
        rows = [_positions(pos[a], x.shape[:-1]) for a in range(len(secs))]
        rows += [rows[0]] * (4 - len(rows))  # unused rows (no section), and IMROPE's e: the t positions
        flat = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
        if flat.shape[0] == 0:
            return x.copy()
        out = _in_halves(flat, d, layout, lambda src: run_rope_ext(
            src, np.stack(rows), d, MROPE_MODES[mode], rope_ext_params(freqs),
            sections=tuple(secs + [0] * (4 - len(secs)))))
        return out.reshape(x.shape)

    def apply_vision_rope(self, x, kind, *, grid, theta=None, spatial_merge_size=None):
        r"""``ggml_rope_multi`` in ``GGML_ROPE_TYPE_VISION`` mode (``n_dims`` = head/2, every pair of the head, each
        section's frequencies restarting at :math:`b^{-4j/d}`): the two blocks of pairs of the tower as sections
        ``[s, d/2 - s, 0, 0]``, their position rows as ggml's t and h streams, and ``freq_factors``
        :math:`b^{-4j/d}/\omega'_i` (1 for Qwen2-VL and Llama 4; :math:`b^{2/d}` on Pixtral's column pairs, which
        take the odd-indexed frequencies). The token order and positions are :func:`refrope.vision_rope`'s (an
        application's job in llama.cpp, not the kernel's); the ``"interleaved"`` layout (Llama 4) is gathered into
        halves and back."""
        from ..multimodal import vision_rope

        x = np.asarray(x)
        v = vision_rope(kind, head_dim=x.shape[-1], grid=grid, theta=theta, spatial_merge_size=spatial_merge_size)
        d, axes = x.shape[-1], np.asarray(v.axes)
        first = int(np.argmax(axes != axes[0])) or len(axes)  # pairs in the first block
        if first == len(axes) or np.any(axes[first:] == axes[0]):
            raise ValueError(f"ggml's VISION mode takes two blocks of pairs, got the axes {axes.tolist()} of {kind!r}")
        base = float(v.theta)  # the tower's default when theta is None
        local = np.concatenate([np.arange(first), np.arange(len(axes) - first)])
        factors = (base ** (-4.0 * local / d) / np.asarray(v.freqs, dtype=np.float64)).astype(np.float32)
        streams = [_positions(v.positions[axes[0]], x.shape[:-1]), _positions(v.positions[axes[-1]], x.shape[:-1])]
        flat = np.ascontiguousarray(x.reshape(-1, d))
        out = _in_halves(flat, d, v.layout, lambda src: run_rope_ext(
            src, np.stack(streams * 2), d // 2, ggml.GGML_ROPE_TYPE_VISION, RopeExtParams(base, freq_factors=factors),
            sections=(first, len(axes) - first, 0, 0)))
        return out.reshape(x.shape)

    def cos_sin(self, positions, freqs, *, layout="half", dtype="float32"):
        mode = self._mode(layout)
        pos = np.asarray(positions)
        d, half = freqs.rotary_dim, freqs.rotary_dim // 2
        flat = _positions(pos, pos.shape)
        unit = np.zeros((flat.shape[0], d), dtype=_NUMPY[dtype] if dtype in _NUMPY else np.float32)
        first = slice(0, half) if layout == "half" else slice(0, d, 2)
        second = slice(half, d) if layout == "half" else slice(1, d, 2)
        unit[:, first] = 1.0
        if flat.shape[0] == 0:
            empty = np.zeros(pos.shape + (d,), dtype=unit.dtype)
            return empty, empty.copy()
        out = run_rope_ext(self.to_backend(unit, dtype), flat, d, mode, rope_ext_params(freqs))
        cos, sin = out[:, first], out[:, second]
        twice = (lambda t: np.concatenate([t, t], axis=-1)) if layout == "half" else (lambda t: np.repeat(t, 2, -1))
        return twice(cos).reshape(pos.shape + (d,)), twice(sin).reshape(pos.shape + (d,))


def _ggml_version() -> str:
    try:
        return ggml.ggml_version().decode()
    except AttributeError:  # older bindings without ggml_version
        return "unknown"


def make_backend(device: str | None = None) -> GgmlBackend:
    """ggml's CPU RoPE kernel (the only device this adapter drives).

    >>> make_backend().capabilities >= {"apply_rope", "layout:half", "layout:interleaved"}
    True
    """
    if device not in (None, "cpu"):
        raise ValueError(f"the ggml adapter drives ggml's CPU backend only, got device={device!r}")
    return GgmlBackend()

