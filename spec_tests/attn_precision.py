"""Cases and stated bounds for the precision of attention: exact mode (docs/spec/precision.md [P-ATTN-1]) and fast
mode's distance to the exact output (docs/spec/numerics.md [N-FAST-3]), both measured against
:mod:`spec_tests.mp_attention`.

:func:`long_cases` moves the cases of :func:`spec_tests.attn_strategies.attention_cases` (every map, layout, mask,
query scale, bias, chunk size, head grouping) to positions :math:`2^k \\pm 1` up to :math:`2^{40}` (exactly at
:math:`2^k` the products are exact and would hide the angles' error) and scales q for large logits.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from mpmath import mpf

from refrope import relpos as rp
from refrope.budgets import logit_multiplier
from spec_tests import mp_attention as MA
from spec_tests.attn_strategies import attention_cases

U = 2.0**-53
ETA = 2.0**-1074


@st.composite
def long_cases(draw, max_exponent: int = 40, max_n: int = 4):
    """``(case, omega)``: an attention case at positions near :math:`2^k \\pm 1` and its exact frequencies."""
    case = draw(attention_cases(schemes=True, explicit_positions=True, max_n=max_n), label="case")
    omega = MA.exact_omega(case.freqs)
    assume(omega is not None)
    k = draw(st.integers(0, max_exponent), label="k")
    pq, pk = case.positions()
    shift = 2.0**k + draw(st.sampled_from([-1.0, 1.0]), label="sign") - min(pq.min(), pk.min())
    case = case.with_kwargs(positions_q=pq + shift, positions_k=pk + shift)
    case.q = case.q * draw(st.sampled_from([1.0, 1.0, 16.0, 256.0]), label="q scale")  # large logits
    return case, omega


def norms(x: np.ndarray, rot: int) -> tuple[np.ndarray, np.ndarray]:
    """Norms of the rotary slice and of the pass-through coordinates of every row."""
    return np.sqrt(np.square(x[..., :rot]).sum(-1)), np.sqrt(np.square(x[..., rot:]).sum(-1))


def _grouped(case) -> tuple:
    """k and v repeated to the query heads, the multipliers ``(..., n_q)`` and the bias values
    ``(..., heads_q, n_q, n_k)`` (0 without a bias)."""
    group = case.q.shape[-3] // case.k.shape[-3]
    pq, pk = case.positions()
    kw = case.kwargs
    factor = logit_multiplier(case.freqs, pq, case.q.shape[-1], scale=kw.get("scale"),
                              query_scale=kw.get("query_scale"), mscale_all_dim=kw.get("mscale_all_dim"))
    r = np.asarray(pq)[..., :, None] - np.asarray(pk)[..., None, :]
    bias = kw.get("bias")
    b = 0.0 if bias is None else np.asarray(bias(r.copy()), dtype=np.float64)
    b = np.broadcast_to(b[..., None, :, :] if np.ndim(b) == r.ndim else b,
                        case.q.shape[:-1] + (case.k.shape[-2],))
    return np.repeat(case.k, group, axis=-3), np.repeat(case.v, group, axis=-3), factor, b


def logit_scale(case) -> np.ndarray:
    """:math:`S_{ij} = |c_i|\\max(1, m^2)\\|q_i\\|\\|k_j\\| + |b_{ij}|`, ``(..., heads_q, n_q, n_k)``."""
    k, _, factor, b = _grouped(case)
    m2 = max(1.0, case.freqs.attention_factor**2)
    qn, kn = np.linalg.norm(case.q, axis=-1), np.linalg.norm(k, axis=-1)
    return np.abs(factor)[..., None, :, None] * m2 * qn[..., :, None] * kn[..., None, :] + np.abs(b)


def value_scale(case) -> np.ndarray:
    """:math:`V_i = \\max|v|` over the values a query head reads, ``(..., heads_q, 1, 1)``."""
    _, v, _, _ = _grouped(case)
    return np.abs(v).max(axis=(-2, -1), keepdims=True)


def fast_logit_bound(case, omega: list) -> np.ndarray:
    """[N-FAST-3] :math:`\\Delta_{ij}`, ``(..., heads_q, n_q, n_k)``."""
    k, _, factor, b = _grouped(case)
    relpos = rp.resolve(case.kwargs.get("relpos", "rope"))
    rot, m2 = case.freqs.rotary_dim, case.freqs.attention_factor**2
    if relpos.name == "none":
        rot, m2 = 0, 1.0
    stored = case.freqs.inv_freq
    eps = max((float(abs(mpf(w) - e) / e) for w, e in zip(stored, omega) if e), default=0.0) if rot else 0.0
    big_omega = float(np.max(stored, initial=0.0)) if rot else 0.0
    pq, pk = case.positions()
    with mpmath.workdps(MA.DPS):
        f = np.vectorize(lambda a, c: float(abs(MA.f_exact(relpos, mpf(a) - mpf(c)))))(
            np.asarray(pq)[..., :, None], np.asarray(pk)[..., None, :])
    d = case.q.shape[-1]
    (qr, qp), (kr, kp) = norms(case.q, rot), norms(k, rot)
    rotary = m2 * qr[..., :, None] * kr[..., None, :] * ((eps + 3 * U) * big_omega * f + (d + 16) * U)
    passing = qp[..., :, None] * kp[..., None, :] * (d + 2) * U
    return np.abs(factor)[..., None, :, None] * (rotary + passing) + 2 * U * np.abs(b)


def mp_errors(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """``|got - want|`` elementwise as float64 (``want`` an object array of mpf; None compares as masked: 0)."""
    with mpmath.workdps(MA.DPS):
        return np.vectorize(lambda g, w: 0.0 if w is None else float(abs(mpf(g) - w)), otypes=[float])(got, want)


def ulps_of(want: np.ndarray) -> np.ndarray:
    """The float64 ulp of every exact value (masked entries: the smallest subnormal)."""
    return np.vectorize(lambda w: ETA if w is None else MA.ulp(w), otypes=[float])(want)


def angle_limit_ok(case) -> bool:
    """Every angle exact mode forms is within its domain :math:`|p\\,\\omega| \\le 2^{41}` (with the map's slope)."""
    relpos = rp.resolve(case.kwargs.get("relpos", "rope"))
    pq, pk = case.positions()
    finite = math.isfinite(relpos.inner_window)
    slope = relpos.outer_slope if finite else 1.0
    reach = max(np.abs(pq).max(), np.abs(pk).max()) + (relpos.inner_window if finite else 0.0)
    return reach * max(1.0, slope) * float(np.max(case.freqs.inv_freq, initial=0.0)) <= 2.0**40
