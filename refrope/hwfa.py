r"""HWFA (hybrid window-full attention): :math:`L - 1` sliding-window RoPE layers, then one full NoPE layer with logn.

Su's global length-extrapolation scheme (kexue.fm/archives/9603): the window layers see a bounded
neighbourhood (a stack of :math:`L` window layers of window :math:`w` sees :math:`(w - 1)L + 1` tokens),
so they never meet an unseen relative position; the last layer attends to everything, without position
encoding and with the logn scale, so it extrapolates too. The article chooses the largest :math:`w` with
:math:`(w - 1)(L - 1) + 1 \le \alpha N`, :math:`\alpha \le 3/4`, :math:`N` the training length.

:func:`attention_stack` is the attention skeleton of that model (one head, residual additions, no norms, no
MLP): enough to check the dependency structure any implementation must have.
Spec: docs/spec/schemes.md, [HWFA-FIELD-1], [HWFA-WINDOW-1], [HWFA-STACK-1]. Source: kexue.fm/archives/9603.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from ._attention.api import attention
from ._validation import check_int, check_real, finite_real_array
from .query_scale import logn
from .rotary import resolve_freqs

__all__ = ["receptive_field", "window_for", "attention_stack"]


def receptive_field(window: int, layers: int) -> int:
    r"""Tokens a stack of ``layers`` causal sliding-window layers of window :math:`w` sees: :math:`(w - 1)L + 1`.

    A window of :math:`w` keeps distances :math:`0 \le r < w` (the query itself included), so each layer
    reaches :math:`w - 1` tokens further back. Spec: [HWFA-FIELD-1]. Source: kexue.fm/archives/9603.

    >>> receptive_field(16, 23)  # the article's 24-layer model: 23 window layers of w = 16
    346
    """
    w = check_int("window", window, minimum=1)
    return (w - 1) * check_int("layers", layers, minimum=0) + 1


def window_for(training_length: int, layers: int, alpha: float = 0.75) -> int:
    r"""The largest window :math:`w` with :math:`(w - 1)(L - 1) + 1 \le \alpha N` (exact arithmetic).

    :math:`L` = ``layers`` :math:`\ge 2` (the last one is the full layer), :math:`N` = ``training_length``,
    :math:`\alpha` = ``alpha`` :math:`> 0` with :math:`\alpha N \ge 1`. The article's model (:math:`N = 512`,
    :math:`L = 24`) used :math:`w = 16`; the largest admissible one is 17 (:math:`16 \cdot 23 + 1 = 369 \le 384`).
    Spec: [HWFA-WINDOW-1]. Source: kexue.fm/archives/9603.

    >>> window_for(512, 24)
    17
    """
    n = check_int("training_length", training_length, minimum=1)
    count = check_int("layers", layers, minimum=2)
    a = check_real("alpha", alpha, minimum=0.0, strict_minimum=True)
    budget = Fraction(a) * n
    if budget < 1:
        raise ValueError(f"alpha * training_length must be >= 1 for a window of 1, got alpha={a} and "
                         f"training_length={n}")
    return math.floor((budget - 1) / (count - 1)) + 1


def _weights(weights: Any, d: int) -> np.ndarray:
    w = finite_real_array("weights", weights)
    if w.ndim != 4 or w.shape[1:] != (3, d, d) or w.shape[0] < 1:
        raise ValueError(f"weights must have shape (layers >= 1, 3, d, d) = (L, 3, {d}, {d}) (W_q, W_k, W_v of "
                         f"each layer), got {w.shape}")
    return w


def attention_stack(x: Any, weights: Any, freqs: Any, *, window: int, training_length: float,
                    layout: str = "half") -> np.ndarray:
    r"""The hidden states :math:`h_1, \dots, h_L` of an HWFA attention stack, float64, shape ``(L, n, d)``.

    .. math::

        h_0 = x, \qquad h_l = h_{l-1} + \mathrm{Attn}_l(h_{l-1} W^q_l,\; h_{l-1} W^k_l,\; h_{l-1} W^v_l)

    with one head; layers :math:`1, \dots, L - 1`: causal sliding-window (window :math:`w`, distances
    :math:`0 \le r < w`) RoPE attention; layer :math:`L`: full causal attention, NoPE, query scale
    ``logn(training_length)``. Positions are ``arange(n)``; the logit scale :math:`1/\sqrt d`. So
    :math:`h_l[i]` depends on :math:`x[j]` exactly for :math:`i - (w - 1)l - 1 < j \le i` when :math:`l < L`
    and on every :math:`j \le i` at :math:`l = L` ([HWFA-STACK-1]).

    Parameters
    ----------
    x : array_like, shape ``(n, d)``
    weights : array_like, shape ``(L, 3, d, d)``
        :math:`W^q_l, W^k_l, W^v_l` of each layer (``h @ W``).
    freqs : Frequencies or array_like ``(d_rot/2,)``
        The window layers' RoPE (rotary slice the first ``d_rot`` coordinates).
    window : int
        :math:`w \ge 1`.
    training_length : float
        :math:`N > 1`, the logn scale's length.
    layout : {"half", "interleaved", "interleaved_to_half"}

    Spec: [HWFA-STACK-1]. Source: kexue.fm/archives/9603.

    >>> x = np.eye(2); w = np.zeros((2, 3, 2, 2)); w[:, 2] = np.eye(2)  # zero q, k: uniform weights; v = h
    >>> attention_stack(x, w, [1.0], window=1, training_length=4)[-1]  # layer 1: h + h; layer 2: + mean
    array([[4., 0.],
           [1., 3.]])
    """
    h = finite_real_array("x", x)
    if h.ndim != 2 or h.shape[0] < 1 or h.shape[1] < 1:
        raise ValueError(f"x must have shape (n, d) with n, d >= 1, got {h.shape}")
    w = _weights(weights, h.shape[1])
    size = check_int("window", window, minimum=1)
    scale = logn(training_length)
    resolve_freqs(freqs)
    out = np.empty((w.shape[0],) + h.shape)
    for layer, (wq, wk, wv) in enumerate(w):
        q, k, v = (h @ m for m in (wq, wk, wv))
        if layer < w.shape[0] - 1:
            step = attention(q[None], k[None], v[None], freqs, sliding_window=size, layout=layout)
        else:
            step = attention(q[None], k[None], v[None], None, relpos="none", query_scale=scale)
        h = h + step[0]
        out[layer] = h
    return out
