"""Argument checking for attention: one validated :class:`Problem`, split into independent :class:`Head` s.

Everything the user passes is checked here, once, with errors that name the parameter; the
methods (``_attn_blocks``, ``_attn_strips``, ``kvcache``) then work on one query head at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import query_scale as _qs
from .. import relpos as _relpos
from .._validation import check_bool, check_choice, check_int, check_real, finite_real_array
from ..frequencies.base import Frequencies
from ..frequencies.yarn import deepseek_softmax_factor
from ..layouts import check_layout
from ..precision.exact import exact_inv_freq
from ..precision.namespaces import check_precision
from ..rotary import apply_rope, resolve_freqs
from .schemes import OVERFLOW, check_chunk, head_biases

__all__ = ["METHODS", "DEFAULT_BLOCK", "Options", "Head", "Problem", "setup", "check_method", "logit_multiplier",
           "rotary_first"]

METHODS = ("auto", "direct", "two_pass", "decode")
DEFAULT_BLOCK = 512
_OVERFLOW = OVERFLOW


@dataclass(frozen=True)
class Options:
    """What every head shares: frequencies, layout, relative-position map, masks, block size, the bias of
    each query head (``biases[h]``: ``r -> b(r)[h]``), the chunk size, and the precision (with ``"exact"``, the
    exact frequencies in three words, :func:`refrope.precision.exact.exact_inv_freq`; None for NoPE)."""

    omega: np.ndarray
    magnitude: float
    layout: str
    relpos: _relpos.RelPos
    causal: bool
    window: float | None
    block: int
    biases: tuple | None = None
    chunk: int | None = None
    precision: str = "fast"
    exact_omega: Any = None

    def rope(self, x: np.ndarray, positions: np.ndarray, magnitude: float, layout: str) -> np.ndarray:
        """``apply_rope(x, positions)`` with these frequencies at ``magnitude`` (``m`` or ``m**2`` for one-sided
        rotations); NoPE (no frequencies, [A-NOPE-1]) returns a float64 copy of ``x``."""
        if not len(self.omega):
            return np.array(x, dtype=np.float64)
        return apply_rope(x, positions, Frequencies(self.omega, attention_factor=magnitude), layout=layout)

    @property
    def pair_layout(self) -> str:
        """The layout of one-sided rotations (direct, decode): the output permutation of
        ``"interleaved_to_half"`` acts on both q and k and cancels in their dot product."""
        return "interleaved" if self.layout == "interleaved_to_half" else self.layout


@dataclass(frozen=True)
class Head:
    """One (batch index, query head): ``q (n_q, d)``, ``k (n_k, d)``, ``v (n_k, dv)`` (or None), positions,
    ``key_mask (n_k,)`` (None = all keys), ``factor (n_q,)`` = scale * query scale * softmax factor, and the
    head's bias ``r -> b(r)`` (None without one)."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray | None
    pq: np.ndarray
    pk: np.ndarray
    key_mask: np.ndarray | None
    factor: np.ndarray
    bias: Any = None


@dataclass(frozen=True)
class Problem:
    """Validated, broadcast inputs of one attention call."""

    options: Options
    q: np.ndarray          # batch + (heads_q, n_q, d)
    k: np.ndarray          # batch + (heads_kv, n_k, d)
    v: np.ndarray | None   # batch + (heads_kv, n_k, dv)
    pq: np.ndarray         # batch + (n_q,)
    pk: np.ndarray         # batch + (n_k,)
    key_mask: np.ndarray | None  # batch + (n_k,)
    factor: np.ndarray     # batch + (n_q,)
    order: np.ndarray | None = None  # q's and k's coordinates in the caller's order (rotary_first), or None

    @property
    def batch(self) -> tuple[int, ...]:
        return self.q.shape[:-3]

    def rows(self, block: slice) -> Problem:
        """The same problem for the query rows ``block`` only (already validated)."""
        return Problem(self.options, self.q[..., block, :], self.k, self.v, self.pq[..., block], self.pk,
                       self.key_mask, self.factor[..., block], self.order)

    def heads(self) -> Iterator[tuple[tuple[int, ...], Head]]:
        """``(index into the output, Head)`` for every batch index and query head."""
        heads_q, heads_kv = self.q.shape[-3], self.k.shape[-3]
        group = heads_q // heads_kv
        for b in np.ndindex(*self.batch):
            mask = None if self.key_mask is None else self.key_mask[b]
            for h in range(heads_q):
                kv = b + (h // group,)
                v = None if self.v is None else self.v[kv]
                bias = None if self.options.biases is None else self.options.biases[h]
                yield b + (h,), Head(self.q[b + (h,)], self.k[kv], v, self.pq[b], self.pk[b], mask, self.factor[b],
                                     bias)


def _heads_array(name: str, value: Any) -> np.ndarray:
    arr = finite_real_array(name, value)
    if arr.ndim < 3:
        raise ValueError(f"{name} must have shape (..., heads, seq, dim), got shape {arr.shape}")
    return arr


def _shapes(q: np.ndarray, k: np.ndarray, v: np.ndarray | None) -> tuple[int, ...]:
    """Check head, length and dimension agreement; return the broadcast batch shape."""
    (hq, n_q, d), (hk, n_k, dk) = q.shape[-3:], k.shape[-3:]
    if dk != d:
        raise ValueError(f"q and k must have the same head dimension, got q.shape={q.shape} and k.shape={k.shape}")
    if hk < 1 or hq % hk:
        raise ValueError(f"heads_q must be a multiple of heads_kv, got heads_q={hq} (q.shape={q.shape}) "
                         f"and heads_kv={hk} (k.shape={k.shape})")
    if n_q < 1 or n_k < 1 or d < 1:
        raise ValueError(f"q and k need n_q, n_k, d >= 1, got q.shape={q.shape} and k.shape={k.shape}")
    batches = [q.shape[:-3], k.shape[:-3]]
    if v is not None:
        if v.shape[-3:-1] != (hk, n_k) or v.shape[-1] < 1:
            raise ValueError(f"v must have shape (..., heads_kv={hk}, n_k={n_k}, dv >= 1), got {v.shape}")
        batches.append(v.shape[:-3])
    try:
        return np.broadcast_shapes(*batches)
    except ValueError:
        raise ValueError(f"the leading (batch) axes of q, k, v do not broadcast: {batches}") from None


def _per_batch(name: str, value: np.ndarray, batch: tuple[int, ...], n: int) -> np.ndarray:
    """Broadcast ``value`` to ``batch + (n,)`` or raise naming ``name``."""
    try:
        return np.broadcast_to(value, batch + (n,))
    except ValueError:
        raise ValueError(f"{name} of shape {value.shape} does not broadcast to (..., {n}) = {batch + (n,)}") from None


def _positions(positions_q: Any, positions_k: Any, batch: tuple, n_q: int, n_k: int) -> tuple[np.ndarray, np.ndarray]:
    if positions_k is None:
        pk = np.arange(n_k, dtype=np.float64)
    else:
        pk = finite_real_array("positions_k", positions_k)
    if positions_q is None:
        if n_q > n_k:
            raise ValueError(f"positions_q must be given when n_q={n_q} > n_k={n_k} "
                             "(the default is the last n_q of arange(n_k))")
        pq = np.arange(n_k - n_q, n_k, dtype=np.float64)
    else:
        pq = finite_real_array("positions_q", positions_q)
    return _per_batch("positions_q", pq, batch, n_q), _per_batch("positions_k", pk, batch, n_k)


def _key_mask(key_mask: Any, batch: tuple, n_k: int) -> np.ndarray | None:
    if key_mask is None:
        return None
    mask = np.asarray(key_mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"key_mask must be a boolean array (True = may attend), got dtype {mask.dtype}")
    return _per_batch("key_mask", mask, batch, n_k)


def _frequencies(freqs: Any, relpos: _relpos.RelPos, precision: str) -> tuple[np.ndarray, float, Any]:
    """``(omega, magnitude, exact omega)``; NoPE ([A-NOPE-1]) has none (``freqs`` may be None, and is not applied).
    The exact frequencies (three words) only with ``precision="exact"``, else None."""
    if relpos.name == "none":
        if freqs is not None:
            resolve_freqs(freqs)  # still a valid value
        return np.zeros(0), 1.0, None
    if freqs is None:
        raise TypeError(f"freqs is None, which only relpos='none' (NoPE) allows; got relpos={relpos!r}")
    omega, magnitude = resolve_freqs(freqs)
    return omega, magnitude, exact_inv_freq(freqs)[0] if precision == "exact" else None


def _softmax_factor(freqs: Any, mscale_all_dim: Any) -> float:
    if mscale_all_dim is None:
        return 1.0
    factor = freqs.params.get("factor") if isinstance(freqs, Frequencies) else None
    if factor is None:
        raise ValueError(f"mscale_all_dim={mscale_all_dim!r} needs freqs carrying params['factor'] "
                         f"(e.g. inv_freq('yarn', ...)), got {freqs!r}")
    return deepseek_softmax_factor(factor, check_real("mscale_all_dim", mscale_all_dim))


def logit_multiplier(freqs: Any, positions_q: np.ndarray, head_dim: int, *, scale: Any = None,
                     query_scale: Any = None, mscale_all_dim: Any = None) -> np.ndarray:
    r"""The factor :math:`c_i = \lambda\,g\,\sigma(p_i)` of each query's logits, shape of ``positions_q``.

    :math:`\lambda` = ``scale`` (default :math:`1/\sqrt{D}`, ``head_dim`` :math:`D`), :math:`g` DeepSeek's
    softmax factor (``mscale_all_dim``), :math:`\sigma` the query scale. The one definition: the attention,
    the conformance budget and the golden vectors' ``logitMultiplier`` all use it. Spec: [A-SCORE-1].

    >>> from refrope import query_scale
    >>> logit_multiplier([1.0], np.array([0.0, 3.0]), 4, query_scale=query_scale.logn(4))
    array([0. , 0.5])
    """
    base = 1.0 / math.sqrt(head_dim) if scale is None else check_real("scale", scale, minimum=0.0,
                                                                     strict_minimum=True)
    softmax = _softmax_factor(freqs, mscale_all_dim)
    qs = _qs.evaluate(query_scale, positions_q)
    return np.full(positions_q.shape, base * softmax) if qs is None else (base * softmax) * qs


def _check_magnitudes(q, k, v, factor, magnitude) -> None:
    r"""Refuse inputs whose logits or weighted value sums could overflow float64 (never inf/NaN).

    :math:`|s_{ij}| \le |c_i|\,\max(1, m^2)\,d\,\max|q|\,\max|k|`, evaluated in Python floats
    (which reach ``inf`` quietly instead of warning).
    """
    peak = max(1.0, magnitude)
    bound = (float(np.abs(factor).max(initial=0.0)) * peak * peak * q.shape[-1]
             * float(np.abs(q).max(initial=0.0)) * float(np.abs(k).max(initial=0.0)))
    if not bound < _OVERFLOW:
        raise ValueError(f"q, k, scale and query_scale are so large that logits could overflow float64 "
                         f"(bound {bound:.3g}); rescale the inputs")
    if v is not None and not float(np.abs(v).max(initial=0.0)) * v.shape[-2] < _OVERFLOW:
        raise ValueError("v is so large that weighted sums of values could overflow float64; rescale v")


def setup(q: Any, k: Any, v: Any, freqs: Any, options: Mapping[str, Any]) -> Problem:
    """Validate every argument of an attention call and return the :class:`Problem`.

    ``options`` holds every keyword of :data:`~refrope._attention.keywords.KEYWORDS` (resolved);
    ``v=None`` is for the score and probability functions.
    """
    precision = check_precision(options["precision"])
    layout = check_layout(options["layout"])
    relpos = _relpos.resolve(options["relpos"])
    omega, magnitude, exact_omega = _frequencies(freqs, relpos, precision)
    qa, ka = _heads_array("q", q), _heads_array("k", k)
    va = None if v is None else _heads_array("v", v)
    batch = _shapes(qa, ka, va)
    (heads_q, n_q, d), (heads_kv, n_k) = qa.shape[-3:], ka.shape[-3:-1]
    order = rotary_first(d, options["rotary_offset"], 2 * omega.shape[0])
    if order is not None:  # the rotary slice moved to the front of q and k: their dot products are unchanged
        qa, ka = qa[..., order], ka[..., order]
    window = options["sliding_window"]
    window = None if window is None else check_real("sliding_window", window, minimum=0.0, strict_minimum=True)
    block = options["block_size"]
    block = DEFAULT_BLOCK if block is None else check_int("block_size", block, minimum=1)
    causal = check_bool("causal", options["causal"])
    opts = Options(omega, magnitude, layout, relpos, causal, window, block, head_biases(options["bias"], heads_q),
                   check_chunk(options["chunk_size"]), precision, exact_omega)
    pq, pk = _positions(options["positions_q"], options["positions_k"], batch, n_q, n_k)
    mask = _key_mask(options["key_mask"], batch, n_k)
    factor = logit_multiplier(freqs, pq, d, scale=options["scale"], query_scale=options["query_scale"],
                              mscale_all_dim=options["mscale_all_dim"])
    _check_magnitudes(qa, ka, va, factor, magnitude)
    qb = np.broadcast_to(qa, batch + (heads_q, n_q, d))
    kb = np.broadcast_to(ka, batch + (heads_kv, n_k, d))
    vb = None if va is None else np.broadcast_to(va, batch + va.shape[-3:])
    return Problem(opts, qb, kb, vb, pq, pk, mask, factor, order)


def rotary_first(d: int, rotary_offset: Any, rotary_dim: int) -> np.ndarray | None:
    """The coordinate order that puts the rotary slice ``[rotary_offset, rotary_offset + rotary_dim)`` of a head of
    ``d`` coordinates first, the others after it in their order; None when it is already first. Attention applies
    it to q and k alike, which leaves every dot product, and so the output, unchanged [A-SCORE-1].

    >>> rotary_first(6, 2, 2).tolist()
    [2, 3, 0, 1, 4, 5]
    >>> rotary_first(6, 0, 4) is None
    True
    """
    offset = check_int("rotary_offset", rotary_offset, minimum=0)
    if offset + rotary_dim > d:
        raise ValueError(f"the rotary slice [{offset}, {offset + rotary_dim}) (rotary_offset={offset}, rotary_dim="
                         f"{rotary_dim} = 2 * len(inv_freq)) exceeds the head dimension d={d}")
    if offset == 0 or rotary_dim == 0:
        return None
    rest = [i for i in range(d) if not offset <= i < offset + rotary_dim]
    return np.array(list(range(offset, offset + rotary_dim)) + rest)


def check_method(method: Any) -> str:
    """Return ``method`` if it is one of :data:`METHODS`."""
    return check_choice("method", method, METHODS)

