r"""The derived error budget a backend must meet against the float64 oracle (docs/spec/numerics.md).

A backend computes in a storage dtype (``float32``, ``float16``, ``bfloat16`` or ``float64``) with unit
roundoff :math:`u`, and computes angles :math:`\phi = p\,\omega` in its ``angle_dtype`` with unit roundoff
:math:`u_a`. The oracle is evaluated on the inputs *as the backend received them* (rounded to the dtype),
so input rounding never enters the budget. For a rotated pair of input norm :math:`r` and magnitude
:math:`m` every output coordinate must lie within

.. math:: B = m\,r\,\big(C_d\,u + C_a\,u_a\,(1 + |\phi|)\big) + 4\eta

of the oracle ([N-ROPE-1]), :math:`\eta` the dtype's smallest subnormal. Pass-through coordinates have
budget 0 ([N-ROPE-2]). Frequencies get :math:`(C_f + |\ln\omega'|)\,u_a\,\omega' + 2\delta w\,\omega + \eta_a`
([N-FREQ-1]); attention outputs the propagated logit error plus the weighted sum's rounding ([N-ATTN-1])
and an energy (NMSE) form of the same budget ([N-ATTN-2]). A backend that builds :math:`\theta_i = p\,b^{-2i/d}`
by :math:`i` successive multiplications (ggml's CPU kernel) declares ``angle_method="recurrence"``: its angle term
gains :math:`u_a|\phi|(C_r i + \ell_i)` ([N-ROPE-3], :func:`recurrence_error`). Every constant is derived in
docs/spec/numerics.md; none is tuned to a library.

Spec: [N-ROPE-1], [N-ROPE-2], [N-ROPE-3], [N-COSSIN-1], [N-FREQ-1], [N-ATTN-1], [N-ATTN-2], [N-NAN-1].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._validation import check_choice
from .frequencies.registry import VARIANTS
from .layouts import check_layout, pair_slices
from .rotary import resolve_freqs

__all__ = ["DTYPES", "UNIT_ROUNDOFF", "C_DTYPE", "C_ANGLE", "C_FREQ", "C_NMSE", "C_RECUR", "unit_roundoff",
           "recurrence_error", "rope_budget", "rope_nd_budget", "cos_sin_budget", "inv_freq_budget", "attention_budget",
           "max_attention_angle", "logit_multiplier", "nmse", "nmse_budget"]

DTYPES = ("float64", "float32", "float16", "bfloat16")
UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}
"""Unit roundoff :math:`u = 2^{-t}` of each dtype (``t`` = significand bits including the hidden one)."""
SMALLEST_SUBNORMAL = {"float64": 2.0**-1074, "float32": 2.0**-149, "float16": 2.0**-24, "bfloat16": 2.0**-133}
C_DTYPE = 8.0   # 2*sqrt(2) + 2 ~ 4.83 roundings in the dtype (cast of cos, sin; two products; add; final cast)
C_ANGLE = 4.0   # 2|phi| (omega and p*omega rounded) + 4 (cos/sin evaluation, magnitude) <= 4 (1 + |phi|)
C_NMSE = 0.25   # RMS error within half the RMS per-element budget
C_FREQ = 16.0   # pow, divisions, one ramp blend: a dozen roundings of omega in the angle dtype
C_RECUR = 3.0   # per step of the recurrence: the product's rounding (u) and the ratio's (powf, <= 1 ulp <= 2u)


def unit_roundoff(dtype: str) -> float:
    """:math:`u` of a dtype name.

    >>> unit_roundoff("bfloat16")
    0.00390625
    """
    return UNIT_ROUNDOFF[check_choice("dtype", dtype, DTYPES)]


def _eps(dtype: str, angle_dtype: str) -> tuple[float, float, float]:  # u, u_a, eta
    return unit_roundoff(dtype), unit_roundoff(angle_dtype), SMALLEST_SUBNORMAL[dtype]


def recurrence_error(freqs: Any, angle_method: str = "direct") -> np.ndarray:
    r"""The extra relative angle error of each pair under ``angle_method``, in units of :math:`u_a`: 0 for
    ``"direct"``; for ``"recurrence"`` (:math:`\theta_i = \theta_{i-1}\hat s`, :math:`\hat s` = ``powf(b, -2/d)``)

    .. math:: C_r\,i + \ell_i,\qquad \ell_i = \max\big(|\ln\omega'_i|,\ \tfrac{2i}{d}\ln\theta\big)

    :math:`i` products each rounded (:math:`u_a`) multiply by :math:`\hat s`, whose error (``powf`` within one ulp,
    :math:`2u_a`, plus the rounding of the exponent :math:`-2/d`, amplified by :math:`\ln b`) enters :math:`i`
    times; :math:`\ell_i` bounds :math:`(2i/d)\ln b` for the base :math:`b` the backend raises (:math:`\theta`,
    or :math:`b^{-2i/d} = \omega'_i` for a rescaled base). Spec: [N-ROPE-3]. Source: ggml
    ``src/ggml-cpu/ops.cpp`` (``ggml_rope_cache_init``: ``theta *= theta_scale``).

    >>> from refrope import inv_freq
    >>> recurrence_error(inv_freq("default", 4, theta=math.e ** 2), "recurrence").tolist()
    [0.0, 4.0]
    """
    omega, _ = resolve_freqs(freqs)
    if check_choice("angle_method", angle_method, ("direct", "recurrence")) == "direct":
        return np.zeros_like(omega)
    i = np.arange(omega.shape[0], dtype=np.float64)
    theta = float(getattr(freqs, "params", {}).get("theta", 1.0))
    log_omega = np.abs(np.log(np.where(omega > 0, omega, 1.0)))
    return C_RECUR * i + np.maximum(log_omega, 2.0 * i / (2 * omega.shape[0]) * math.log(max(theta, 1.0)))


def rope_budget(x: Any, positions: Any, freqs: Any, *, dtype: str, angle_dtype: str, layout: str = "half",
                rotary_offset: int = 0, angle_method: str = "direct") -> np.ndarray:
    r"""Per-element budget of ``apply_rope(x, positions, freqs, layout, rotary_offset)`` (shape of ``x``).

    .. math:: B_j = m\,r_i\,\big(C_d u + C_a u_a (1 + |p\,\omega_i|)\big) + 4\eta

    for an output coordinate :math:`j` of pair :math:`i` (input pair norm :math:`r_i`); 0 outside the
    rotary slice. ``x`` is the input as the backend received it. ``angle_method="recurrence"`` adds
    :math:`m\,r_i\,u_a|p\,\omega_i|\,(C_r i + \ell_i)` (:func:`recurrence_error`).
    Spec: [N-ROPE-1], [N-ROPE-2], [N-ROPE-3]. Source: Higham, *Accuracy and Stability*, §2-3 (one rounding per
    operation); the float32 angle pipelines of transformers 5.24 (``LlamaRotaryEmbedding.forward``), vLLM 0.33
    (``RotaryEmbedding.forward_native``) and flash-attn (``flash_attn/layers/rotary.py``).

    >>> b = rope_budget(np.array([[3.0, 4.0, 1.0]]), [0], [1.0], dtype="float64", angle_dtype="float64")
    >>> (b / 2.0**-53).round(6).tolist()
    [[60.0, 60.0, 0.0]]
    """
    layout = check_layout(layout)
    u, ua, eta = _eps(dtype, angle_dtype)
    xa = np.asarray(x, dtype=np.float64)
    omega, m = resolve_freqs(freqs)
    d = 2 * omega.shape[0]
    rot = xa[..., rotary_offset:rotary_offset + d]
    a_in, b_in = pair_slices(d, layout)
    a_out, b_out = pair_slices(d, layout, output=True)
    r = np.hypot(rot[..., a_in], rot[..., b_in])
    phi = np.abs(np.asarray(positions, dtype=np.float64))[..., None] * omega
    pair = m * r * (C_DTYPE * u + C_ANGLE * ua * (1.0 + phi) + ua * phi * recurrence_error(freqs, angle_method))
    pair = pair + 4.0 * eta
    out = np.zeros(xa.shape)
    view = out[..., rotary_offset:rotary_offset + d]
    view[..., a_out] = pair
    view[..., b_out] = pair
    return out


def rope_nd_budget(x: Any, positions: Any, freqs: Any, *, axes: Any, dtype: str, angle_dtype: str,
                   layout: str = "half", rotary_offset: int = 0, angle_method: str = "direct") -> np.ndarray:
    r"""Per-element budget of ``apply_rope_nd(x, positions, freqs, axes=axes, ...)``: [N-ROPE-1] per pair with the
    angle of its own axis, :math:`|p_{a_i}\,\omega_i|` (and the recurrence term of ``angle_method``, [N-ROPE-3]);
    0 outside the rotary slice. Spec: [N-ROPE-1], [N-ROPE-3], [K-ND-1].

    >>> b = rope_nd_budget(np.array([[3.0, 4.0, 0.0, 5.0]]), [[0], [2]], [1.0, 1.0], axes=[1, 0], dtype="float64",
    ...                    angle_dtype="float64", layout="interleaved")
    >>> (b / 2.0**-53).round(6).tolist()  # pair 0 at angle 2: 5 (8 + 4 * 3); pair 1 at angle 0: 5 (8 + 4)
    [[100.0, 100.0, 60.0, 60.0]]
    """
    omega, _ = resolve_freqs(freqs)
    d = 2 * omega.shape[0]
    pos = np.asarray(positions, dtype=np.float64)
    xa = np.asarray(x, dtype=np.float64)
    a_out, b_out = pair_slices(d, check_layout(layout), output=True)
    coordinate_axis = np.full(xa.shape[-1], -1)
    for members in (a_out, b_out):
        coordinate_axis[rotary_offset:rotary_offset + d][members] = np.asarray(axes)
    out = np.zeros(xa.shape)
    for a in range(pos.shape[0]):
        part = rope_budget(xa, pos[a], freqs, dtype=dtype, angle_dtype=angle_dtype, layout=layout,
                           rotary_offset=rotary_offset, angle_method=angle_method)
        out = np.where(coordinate_axis == a, part, out)
    return out


def cos_sin_budget(positions: Any, freqs: Any, *, dtype: str, angle_dtype: str, layout: str = "half",
                   angle_method: str = "direct") -> np.ndarray:
    r"""Budget of each entry of ``cos_sin(positions, freqs, layout)``: :math:`m(C_d u + C_a u_a(1 + |\phi|)) + \eta`,
    plus :math:`m\,u_a|\phi|(C_r i + \ell_i)` for ``angle_method="recurrence"``.

    Spec: [N-COSSIN-1], [N-ROPE-3].

    >>> (cos_sin_budget([0], [1.0], dtype="float32", angle_dtype="float32") / 2.0**-24).round(6).tolist()
    [[12.0, 12.0]]
    """
    layout = check_layout(layout)
    u, ua, eta = _eps(dtype, angle_dtype)
    omega, m = resolve_freqs(freqs)
    phi = np.abs(np.asarray(positions, dtype=np.float64))[..., None] * omega
    entry = m * (C_DTYPE * u + C_ANGLE * ua * (1.0 + phi) + ua * phi * recurrence_error(freqs, angle_method)) + eta
    return np.repeat(entry, 2, axis=-1) if layout == "interleaved" else np.concatenate([entry, entry], axis=-1)


def inv_freq_budget(freqs: Any, *, angle_dtype: str) -> np.ndarray:
    r"""Budget of each :math:`\omega'_i` a backend computes itself:
    :math:`(C_f + |\ln\omega'_i|)\,u_a\,\omega'_i + 2\,\delta w_i\,\omega_i + \eta_a`.

    :math:`|\ln\omega'_i|\,u_a` is the rounding of the exponent :math:`2i/d` amplified by
    :math:`\omega = e^{-(2i/d)\ln\theta}`; :math:`2\,\delta w_i\,\omega_i` (margin 2) the error of a ramp's
    blend weight times :math:`\omega_i - \omega_i/k \le \omega_i` (the unscaled frequency), on the blended pairs of
    every variant whose registry entry has a ``blend_error`` (YaRN, NTK-by-parts, dynamic YaRN, Llama 3; 0
    elsewhere). The attention factor gets :math:`C_f u_a m`. Spec: [N-FREQ-1]. Source: HF
    ``_compute_default_rope_parameters``, ``_compute_yarn_parameters``, ``_compute_llama3_parameters``.

    >>> from refrope import inv_freq
    >>> (inv_freq_budget(inv_freq("default", 2), angle_dtype="float32") / 2.0**-24).tolist()
    [16.0]
    """
    ua, omega = unit_roundoff(angle_dtype), freqs.inv_freq
    log = np.abs(np.log(np.where(omega > 0, omega, 1.0)))
    budget = (C_FREQ + log) * ua * omega + SMALLEST_SUBNORMAL[angle_dtype]
    variant = VARIANTS.get(getattr(freqs, "variant", ""))
    if variant is not None and variant.blend_error is not None:
        params = variant.checked({k: v for k, v in freqs.params.items() if k != "theta"})
        budget = budget + 2.0 * variant.blend_error(freqs.rotary_dim, float(freqs.params["theta"]), params, ua)
    return budget


def attention_budget(q: Any, k: Any, v: Any, *, rotary_dim: int, magnitude: float, logit_scale: Any,
                     max_angle: float, max_logit: Any, dtype: str, angle_dtype: str,
                     rotary_offset: int = 0) -> np.ndarray:
    r"""Per-element budget of an attention output row, shape ``(..., heads_q, n_q, 1)`` (broadcasts over ``dv``).

    With :math:`Q_i, K` the rotary-slice norms of query :math:`i` and the largest key, :math:`Q'_i, K'`
    the pass-through norms, :math:`c_i` the row's logit multiplier (scale, DeepSeek factor, query scale),
    :math:`\varepsilon_r = C_d u + C_a u_a (1 + \phi_{max})` the relative error of a rotated vector,
    :math:`S_i = \max_j |s_{ij}|` and :math:`V = \max_j |v_j|`:

    .. math:: \Delta_i = c_i\big[m^2 Q_i K (2\varepsilon_r + (d + 2)u) + Q'_i K' (D - d + 2)u\big] + C_d u S_i,
              \qquad B_i = 2 V \Delta_i + (C_d + n_k)\,u\,V + \eta

    (a logit error :math:`\delta s` moves a softmax average by at most :math:`2V\max|\delta s|`; the weighted
    sum of :math:`n_k` values adds :math:`n_k u V`). GQA: ``k``, ``v`` already repeated to the query heads. The
    rotary slice is ``[rotary_offset, rotary_offset + rotary_dim)`` of the head, the other coordinates pass through.
    Spec: [N-ATTN-1]. Source: Higham §3.1 (:math:`\gamma_n`); the softmax Jacobian
    :math:`\partial o/\partial s_j = p_j (v_j - o)`.

    >>> q = np.ones((1, 1, 2)); k = np.ones((1, 1, 2)); v = np.ones((1, 1, 1))
    >>> b = attention_budget(q, k, v, rotary_dim=2, magnitude=1.0, logit_scale=1.0, max_angle=0.0,
    ...                      max_logit=2.0, dtype="float64", angle_dtype="float64")
    >>> round(float(b[0, 0, 0]) / 2.0**-53, 6)  # 2 (2 (2*12 + 4) + 8*2) + (8 + 1)
    153.0
    """
    u, ua, eta = _eps(dtype, angle_dtype)
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    head = q.shape[-1]
    eps_rot = C_DTYPE * u + C_ANGLE * ua * (1.0 + max_angle)
    rot = np.arange(rotary_offset, rotary_offset + rotary_dim)
    passed = np.setdiff1d(np.arange(head), rot)
    qn = np.linalg.norm(q[..., rot], axis=-1, keepdims=True)
    kn = np.linalg.norm(k[..., rot], axis=-1).max(axis=-1)[..., None, None]
    qp = np.linalg.norm(q[..., passed], axis=-1, keepdims=True)
    kp = np.linalg.norm(k[..., passed], axis=-1).max(axis=-1, initial=0.0)[..., None, None]
    big_v = np.abs(v).max(axis=(-2, -1), initial=0.0)[..., None, None]
    c = np.asarray(logit_scale, dtype=np.float64)
    if c.ndim:
        c = c[..., None]
    s_max = np.asarray(max_logit, dtype=np.float64)
    delta = np.abs(c) * (magnitude**2 * qn * kn * (2 * eps_rot + (rotary_dim + 2) * u)
                         + qp * kp * (head - rotary_dim + 2) * u) + C_DTYPE * u * s_max
    return 2.0 * big_v * delta + (C_DTYPE + k.shape[-2]) * u * big_v + eta


def max_attention_angle(relpos: Any, positions_q: Any, positions_k: Any, inv_freq: Any) -> float:
    r"""The largest angle an attention kernel rotates by, :math:`\phi_{max}` of [N-ATTN-1]: the largest of the
    absolute positions, of :math:`|f(r)|` over the relative positions :math:`r = p_q - p_k` (largest at the
    widest :math:`r`, :math:`f` being odd and monotone) and, for a windowed map, of the outer-piece positions
    :math:`\pm w + s(p_q \mp w)` and :math:`s\,p_k`, times :math:`\max\omega`. The one definition: the
    conformance budget and the golden vectors' ``maxAngle`` use it.

    >>> from refrope import relpos
    >>> max_attention_angle(relpos.inv_leaky_rerope(2, 0.25), np.arange(8.0), np.arange(8.0), [1.0])
    34.0
    """
    from .relpos import resolve

    f = resolve(relpos)
    pq = np.asarray(positions_q, dtype=np.float64)
    pk = np.asarray(positions_k, dtype=np.float64)
    widest = np.array([np.max(pq) - np.min(pk), np.min(pq) - np.max(pk)])
    candidates = [np.abs(pq), np.abs(pk), np.abs(f(widest))]
    if math.isfinite(f.inner_window):
        for side in (1, -1):
            candidates += [np.abs(a) for a in f.outer_positions(pq, pk, side)]
    return float(max(float(np.max(c)) for c in candidates) * float(np.max(np.asarray(inv_freq, dtype=np.float64))))


def logit_multiplier(freqs: Any, positions_q: Any, head_dim: int, *, scale: Any = None, query_scale: Any = None,
                     mscale_all_dim: Any = None) -> np.ndarray:
    r"""The factor :math:`c_i = \lambda\,g\,\sigma(p_i)` of each query's logits (input of [N-ATTN-1]), as the
    attention computes it (:func:`refrope._attention.setup.logit_multiplier`).

    >>> logit_multiplier([1.0], [0.0, 5.0], 16)
    array([0.25, 0.25])
    """
    from ._attention.setup import logit_multiplier as multiplier

    return multiplier(freqs, np.asarray(positions_q, dtype=np.float64), head_dim, scale=scale,
                      query_scale=query_scale, mscale_all_dim=mscale_all_dim)


def nmse(actual: Any, expected: Any) -> float:
    r"""ggml's normalized mean squared error :math:`\sum (a - e)^2 / \sum e^2` (0 when both are 0). Spec: [N-ATTN-2].
    Source: ggml ``tests/test-backend-ops.cpp`` (``nmse``).

    >>> nmse([1.0, 2.0], [1.0, 1.0])
    0.5
    """
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    num, den = float(np.sum((a - e) ** 2)), float(np.sum(e**2))
    return 0.0 if num == 0.0 else (num / den if den > 0 else math.inf)


def nmse_budget(budget: Any, expected: Any) -> float:
    r"""The NMSE a backend may reach: :math:`C_n \sum B_j^2 / \sum e_j^2`, :math:`C_n = 1/4` ([N-ATTN-2]).

    :math:`B_j` carries a margin of at least 1.6 over the worst case of every rounding at once, so a
    correct backend stays within half of it in root-mean-square: the energy form with :math:`(1/2)^2`.

    >>> nmse_budget([0.2, 0.2], [1.0, 1.0])
    0.010000000000000002
    """
    b, e = np.asarray(budget, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    den = float(np.sum(e**2))
    return C_NMSE * float(np.sum(b**2)) / den if den > 0 else math.inf
