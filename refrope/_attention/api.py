r"""Reference attention for every RoPE attention variant, in float64: forward, scores, probabilities, decoding.

The logit of query :math:`i` (position :math:`p_i`) and key :math:`j` (position :math:`p_j`) is

.. math:: s_{ij} = \lambda\,g\,\sigma(p_i)\,\Big[q_{i,\mathrm{pass}}^\top k_{j,\mathrm{pass}}
          + m^2\, q_{i,\mathrm{rot}}^\top\,\mathcal{R}\big(-f(p_i - p_j)\big)\,k_{j,\mathrm{rot}}\Big]

where the rotary slice is the first ``2 * len(inv_freq)`` coordinates of the head (pairs per
``layout``), :math:`m` is ``freqs.attention_factor``, :math:`f` the relative-position map
(:mod:`refrope.relpos`), :math:`\sigma` the query scale (:mod:`refrope.query_scale`),
:math:`\lambda` = ``scale`` (default :math:`1/\sqrt d`) and :math:`g` DeepSeek's softmax factor
(``mscale_all_dim``); a ``bias`` :math:`b` (:mod:`refrope.bias`) adds :math:`b(p_i - p_j)[h]` after every factor,
and ``relpos="none"`` (NoPE) drops the rotation and the magnitude. Masked pairs get :math:`-\infty`; the output row is
:math:`\sum_j \mathrm{softmax}_j(s_{ij})\,v_j`, and a row with no visible key is 0.

Spec: docs/spec/attention.md. Sources: kexue.fm/archives/9708, 9728, 8823; bojone/rerope;
HF transformers (``repeat_kv``, ``yarn_apply_mscale``, Llama 4 ``attn_scales``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._parallel import one_blas_thread, parallel_map
from .blocks import _PARALLEL_LOGITS, blocked_attention, blocked_scores
from .exact import exact_attention, exact_probs, exact_scores
from .keywords import KEYWORDS, METHOD, required, resolve, takes
from .kvcache import KVCache, decode_logits
from .setup import Head, Options, Problem, check_method, setup
from .strips import direct_logits, softmax_rows, strip_attention, strip_scores, two_pass_logits

__all__ = ["attention", "attention_scores", "attention_probs", "decode_attention", "KVCache", "problem_scores"]

_LOGITS = {"direct": direct_logits, "two_pass": two_pass_logits, "decode": decode_logits}


def _rows(method: str, options: Options) -> int:
    return 1 if method == "decode" else options.block


def _head_output(head: Head, options: Options, method: str) -> np.ndarray:
    if options.precision == "exact":
        return exact_attention(head, options)
    if method == "auto":
        return blocked_attention(head, options)
    return strip_attention(head, _LOGITS[method](head, options), _rows(method, options))


def _head_scores(head: Head, options: Options, method: str) -> np.ndarray:
    if options.precision == "exact":
        return exact_scores(head, options)
    if method == "auto":
        return blocked_scores(head, options)
    return strip_scores(head, _LOGITS[method](head, options), _rows(method, options))


def _head_probs(head: Head, options: Options, method: str) -> np.ndarray:
    return exact_probs(head, options)


def _run(problem: Problem, method: str, per_head, last: int) -> np.ndarray:
    out = np.empty(problem.q.shape[:-1] + (last,))

    def one(item) -> None:
        index, head = item
        out[index] = per_head(head, problem.options, method)

    heads = list(problem.heads())
    with one_blas_thread():  # the same bits whatever OPENBLAS_NUM_THREADS and REFROPE_NUM_THREADS [PERF-THREADS-1]
        if len(heads) > 1 and problem.q.size // problem.q.shape[-1] * problem.k.shape[-2] >= _PARALLEL_LOGITS:
            parallel_map(one, heads)  # independent heads over threads
        else:
            for item in heads:
                one(item)
    return out


@takes(("q", "k", "v", "freqs"), KEYWORDS + (METHOD,))
def attention(q: Any, k: Any, v: Any, freqs: Any, **options: Any) -> np.ndarray:
    r"""Softmax attention with RoPE and any relative-position map, mask, query scale, magnitude and bias, in float64.

    .. math:: o_i = \sum_j \frac{e^{s_{ij}}}{\sum_{j'} e^{s_{ij'}}}\,v_j,\qquad
              s_{ij} = \lambda g \sigma(p_i)\big[q_{i,\mathrm{pass}}^\top k_{j,\mathrm{pass}}
              + m^2 q_{i,\mathrm{rot}}^\top \mathcal{R}(-f(p_i - p_j)) k_{j,\mathrm{rot}}\big] + b(p_i - p_j)[h]

    Parameters
    ----------
    q : array_like, shape ``(..., heads_q, n_q, d)``
    k : array_like, shape ``(..., heads_kv, n_k, d)``
        ``heads_q`` a multiple of ``heads_kv``: query head ``h`` uses key head ``h // (heads_q // heads_kv)``.
    v : array_like, shape ``(..., heads_kv, n_k, dv)``
        Leading (batch) axes of q, k, v broadcast.
    freqs : Frequencies or array_like ``(d_rot/2,)``, or None with ``relpos="none"``
        :math:`\omega` and magnitude :math:`m` (``attention_factor``, 1 for a plain array).
    positions_q, positions_k : array_like, broadcastable to ``(..., n_q)`` / ``(..., n_k)``
        Default: the last ``n_q`` of ``arange(n_k)``, and ``arange(n_k)``. Real, finite.
    relpos : ``"rope"``, ``"none"`` or a map from :mod:`refrope.relpos`
        :math:`f`; odd for :math:`r < 0` (reached only with ``causal=False``). ``"none"`` is NoPE: no
        rotation and no magnitude, ``freqs`` may be None ([A-NOPE-1]).
    layout : {"half", "interleaved", "interleaved_to_half"}
    rotary_offset : int
        Start of the rotary slice ``[rotary_offset, rotary_offset + d_rot)`` of q and k (default 0, ``d_rot`` =
        ``2 * len(inv_freq)``); the other coordinates are pass-through (DeepSeek's MLA puts the rotary part last).
    causal : bool
        Keep :math:`p_k \le p_q` (by position, not index).
    sliding_window : float, optional
        :math:`N > 0`: keep :math:`0 \le p_q - p_k < N` (causal) or :math:`|p_q - p_k| < N`.
    key_mask : bool array_like, broadcastable to ``(..., n_k)``, optional
        True = may attend (key padding).
    scale : float, optional
        :math:`\lambda > 0`, default :math:`1/\sqrt d`.
    query_scale : callable, optional
        :math:`\sigma`: query positions to per-query factors (:mod:`refrope.query_scale`).
    mscale_all_dim : float, optional
        DeepSeek: multiply the logits by ``deepseek_softmax_factor(freqs.params["factor"], mscale_all_dim)``.
    bias : callable, optional
        :math:`b`: a bias of :mod:`refrope.bias` (scalar or per-head parameters, ``heads_q`` of them) or any
        callable of the raw distances :math:`r = p_i - p_j` returning values broadcastable to
        ``(heads_q,) + r.shape``; added after every factor, not multiplied by them ([A-BIAS-1]).
    chunk_size : int, optional
        :math:`C \ge 1`: keep :math:`\lfloor p_i/C\rfloor = \lfloor p_j/C\rfloor` (Llama 4's chunked layers),
        with the other masks ([A-MASK-5]).
    method : {"auto", "direct", "two_pass", "decode"}
        ``"auto"``: tiles, masked tiles skipped, one pass per tile where possible, online softmax (fast);
        ``"direct"``: the definition per pair; ``"two_pass"``: the articles' two products and window
        mask; ``"decode"``: the KV-cache procedure row by row. All agree within [A-NUM-1].
    block_size : int, optional
        Query rows (and keys) per tile or strip, default 512. Changes rounding only.
    precision : {"fast", "exact"}
        ``"fast"`` (float64; its distance to the exact output is bounded by [N-FAST-3], growing with the relative
        positions, not the absolute ones); ``"exact"``: every output element within 2 ulp + 2u max|v| of the exact
        output, logits and weights likewise, whatever ``method`` and ``block_size`` (which then change nothing);
        about 25 to 60 times slower (one head, d = 128, n = 2048 to 8192) [P-ATTN-1].

    Returns
    -------
    ndarray, float64, shape ``(..., heads_q, n_q, dv)``
        A query with no visible key gets a zero row.

    Spec: [A-SCORE-1], [A-OUT-1], [A-GQA-1], [A-MASK-1] to [A-MASK-5], [A-METHOD-1] to [A-METHOD-4],
    [A-BIAS-1], [A-NOPE-1], [P-ATTN-1], [P-ATTN-2], [N-FAST-3]. Source: kexue.fm/archives/9708 §8.2;
    bojone/rerope; HF ``repeat_kv``; Press et al., ALiBi (arXiv:2108.12409); HF ``masking_utils.py``
    (``chunked_overlay``).

    >>> q = np.array([[[[1.0, 0.0]]]]); k = np.array([[[[1.0, 0.0], [0.0, 1.0]]]]); v = np.array([[[[1.0], [3.0]]]])
    >>> attention(q, k, v, [np.pi / 2], scale=1.0).round(12)  # a quarter turn: both logits are 0
    array([[[[2.]]]])
    >>> from refrope import bias
    >>> attention(q, k, v, None, relpos="none", bias=bias.alibi(np.log(2)), scale=1.0,
    ...           positions_q=[1]).round(8)  # logits 1 - log 2 and 0 + 0: (e/2 * 1 + 3) / (e/2 + 1)
    array([[[[1.84776623]]]])
    """
    options = resolve("attention", options, KEYWORDS + (METHOD,))
    method = check_method(options.pop("method"))
    problem = setup(q, k, v, freqs, options)
    return _run(problem, method, _head_output, problem.v.shape[-1])


@takes(("q", "k", "freqs"), KEYWORDS + (METHOD,))
def attention_scores(q: Any, k: Any, freqs: Any, **options: Any) -> np.ndarray:
    r"""The logits :math:`s_{ij}` of :func:`attention`, shape ``(..., heads_q, n_q, n_k)``; masked pairs ``-inf``.

    Takes every keyword of :func:`attention`.
    Spec: [A-SCORE-1], [A-MASK-1]. Source: kexue.fm/archives/9708 §8.2.

    >>> attention_scores(np.ones((1, 2, 2)), np.ones((1, 2, 2)), [0.0], scale=1.0)
    array([[[  2., -inf],
            [  2.,   2.]]])
    """
    options = resolve("attention_scores", options, KEYWORDS + (METHOD,))
    method = check_method(options.pop("method"))
    return problem_scores(setup(q, k, None, freqs, options), method)


def problem_scores(problem: Problem, method: str) -> np.ndarray:
    """The logits of an already validated :class:`Problem` (``(..., heads_q, n_q, n_k)``, masked pairs -inf)."""
    return _run(problem, method, _head_scores, problem.k.shape[-2])


@takes(("q", "k", "freqs"), KEYWORDS + (METHOD,))
def attention_probs(q: Any, k: Any, freqs: Any, **options: Any) -> np.ndarray:
    r"""The attention weights :math:`\mathrm{softmax}_j(s_{ij})`, shape ``(..., heads_q, n_q, n_k)``.

    Masked pairs are exactly 0; a row with no visible key is all 0 (never NaN). Takes every keyword of
    :func:`attention`. Spec: [A-PROBS-1], [A-MASK-4].

    >>> attention_probs(np.ones((1, 2, 2)), np.ones((1, 2, 2)), [0.0])
    array([[[1. , 0. ],
            [0.5, 0.5]]])
    """
    options = resolve("attention_probs", options, KEYWORDS + (METHOD,))
    method = check_method(options.pop("method"))
    problem = setup(q, k, None, freqs, options)
    if problem.options.precision == "exact":
        return _run(problem, method, _head_probs, problem.k.shape[-2])
    return softmax_rows(problem_scores(problem, method))


_DECODE_KEYWORDS = tuple(kw for kw in KEYWORDS if kw.name not in ("positions_q", "positions_k"))


@takes(("q", "cache", "freqs"), _DECODE_KEYWORDS, extra=(required("position"),))
def decode_attention(q: Any, cache: KVCache, freqs: Any, **options: Any) -> np.ndarray:
    r"""Attention of new queries at ``position`` over a :class:`KVCache`, the KV-cache way.

    Every cached (unrotated) key is rotated by :math:`-f(p - p_j)` and the query is left unrotated
    (bojone/rerope ``rerope_patch.py``), so any relative-position map decodes exactly: decoding token by token
    equals the
    rows of :func:`attention` on the whole sequence [A-DECODE-2].

    ``q`` is ``(..., heads_q, n_q, d)`` (usually ``n_q = 1``), ``position`` broadcasts to ``(..., n_q)``;
    the other keywords (``layout``, ``causal``, ``sliding_window``, ``key_mask``, ``scale``,
    ``query_scale``, ``mscale_all_dim``, ``bias``, ``chunk_size``, ``block_size``, ``precision``) are those of
    :func:`attention`.
    Returns ``(..., heads_q, n_q, dv)``.
    Spec: [A-DECODE-1], [A-DECODE-2]. Source: kexue.fm/archives/9708 §8.2; bojone/rerope ``rerope_patch.py``.

    >>> cache = KVCache().append(np.array([[[1.0, 0.0], [0.0, 1.0]]]), np.array([[[1.0], [3.0]]]), [0, 1])
    >>> decode_attention(np.array([[[1.0, 0.0]]]), cache, [np.pi / 2], position=1, scale=1.0).round(12)
    array([[[2.]]])
    """
    if not isinstance(cache, KVCache):
        raise TypeError(f"cache must be a refrope.KVCache, got {type(cache).__name__}")
    if len(cache) == 0:
        raise ValueError("cache is empty: append keys, values and positions first")
    for name in ("positions_q", "positions_k", "method"):
        if name in options:
            raise TypeError(f"decode_attention takes no {name!r} (the query position is `position`, "
                            "the keys' positions are in the cache)")
    options = resolve("decode_attention", options, (required("position"), *_DECODE_KEYWORDS))
    position = options.pop("position")
    return attention(q, cache.keys, cache.values, freqs, positions_q=position, positions_k=cache.positions,
                     method="decode", **options)
