"""Attention written out in mpmath at 60 digits, pair by pair, from docs/spec/attention.md (not from refrope): the
exact output :math:`t` that docs/spec/precision.md [P-ATTN-1] and docs/spec/numerics.md [N-FAST-3] measure against.

The inputs are taken as exact: the float64 entries of q, k, v and the positions, the exact inverse frequencies
(mpf values, from :mod:`spec_tests.mp_variants` or a plain array's own values), the stored magnitude :math:`m`, the
float64 logit multipliers :math:`c_i` (``refrope.budgets.logit_multiplier``) and the float64 bias values
:math:`b(\\mathrm{fl}(p_i - p_j))`. Relative positions, the map :math:`f`, the masks (chunks included), cosines,
sines, exponentials and sums are exact here.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from mpmath import mpf

from refrope import relpos as rp
from refrope.budgets import logit_multiplier
from spec_tests import mp_variants as R
from spec_tests.mp_variants import DPS

U = 2.0**-53


def f_exact(relpos, r):
    """The map of docs/spec/relpos.md on an exact ``r`` (mpf), odd for r < 0."""
    name = type(rp.resolve(relpos)).__name__
    relpos = rp.resolve(relpos)
    a = abs(r)
    if name == "_NoPE":
        value = mpf(0)
    elif name == "_RoPE":
        value = a
    elif name == "_Linear":
        value = a / mpf(relpos.factor)
    elif name == "_ReRoPE":
        value = min(a, mpf(relpos.window))
    else:
        w = mpf(relpos.window)
        value = a if a < w else w + (a - w) / mpf(relpos.factor)
    return value if r >= 0 else -value


def visible(r, key_ok: bool, p_q, p_k, causal: bool, window, chunk) -> bool:
    """[A-MASK-1] to [A-MASK-3], [A-MASK-5] on exact relative positions."""
    ok = key_ok and (r >= 0 or not causal)
    if window is not None:
        ok = ok and (r < mpf(window) if causal else abs(r) < mpf(window))
    if chunk is not None:
        ok = ok and mpmath.floor(mpf(p_q) / chunk) == mpmath.floor(mpf(p_k) / chunk)
    return ok


def _pairs(rot: int, layout: str) -> list:
    """(a, b) input coordinates of each rotated pair (the logit does not depend on the output order)."""
    if layout == "half":
        return [(i, i + rot // 2) for i in range(rot // 2)]
    return [(2 * i, 2 * i + 1) for i in range(rot // 2)]


def head(q, k, v, omega, m, pq, pk, factor, *, relpos, layout="half", causal=True, window=None, key_mask=None,
         chunk=None, bias=None) -> tuple[list, list, list]:
    """``(scores, probs, output)`` of one head as nested lists of mpf (scores ``None`` where masked).

    ``q (n_q, d)``, ``k (n_k, d)``, ``v (n_k, dv)`` float64; ``omega`` the exact inverse frequencies (mpf, empty
    for NoPE); ``factor (n_q,)`` the float64 multipliers; ``bias (n_q, n_k)`` float64 values or None.
    """
    n_q, n_k, dv = q.shape[0], k.shape[0], v.shape[1]
    rot = 2 * len(omega)
    pairs = _pairs(rot, layout)
    in_pairs = {c for pair in pairs for c in pair}
    passing = [c for c in range(q.shape[1]) if c not in in_pairs]
    with mpmath.workdps(DPS):
        m2 = mpf(m) ** 2
        scores, probs, out = [], [], []
        for i in range(n_q):
            row = []
            for j in range(n_k):
                r = mpf(pq[i]) - mpf(pk[j])
                if not visible(r, key_mask is None or bool(key_mask[j]), pq[i], pk[j], causal, window, chunk):
                    row.append(None)
                    continue
                fr = f_exact(relpos, r)
                dot = mpmath.fsum(mpf(q[i, c]) * mpf(k[j, c]) for c in passing)
                turned = []
                for (a, b), w in zip(pairs, omega):
                    phi = fr * w
                    qa, qb, ka, kb = mpf(q[i, a]), mpf(q[i, b]), mpf(k[j, a]), mpf(k[j, b])
                    turned.append(mpmath.cos(phi) * (qa * ka + qb * kb) + mpmath.sin(phi) * (qa * kb - qb * ka))
                s = mpf(factor[i]) * (dot + m2 * mpmath.fsum(turned))
                row.append(s + (0 if bias is None else mpf(bias[i, j])))
            scores.append(row)
            live = [s for s in row if s is not None]
            if not live:
                probs.append([mpf(0)] * n_k)
                out.append([mpf(0)] * dv)
                continue
            top = max(live)
            weights = [mpf(0) if s is None else mpmath.exp(s - top) for s in row]
            total = mpmath.fsum(weights)
            probs.append([w / total for w in weights])
            out.append([mpmath.fsum(p * mpf(v[j, e]) for j, p in enumerate(probs[-1])) for e in range(dv)])
    return scores, probs, out


def ulp(t) -> float:
    """The float64 ulp at ``t`` (its binade's spacing; the smallest subnormal at 0)."""
    t = float(t)
    if t == 0.0:
        return 2.0**-1074
    return 2.0 ** (max(math.frexp(t)[1], -1021) - 53)


def errors(got: np.ndarray, want: list) -> np.ndarray:
    """``|got - want|`` elementwise (float64 of the mpf difference)."""
    with mpmath.workdps(DPS):
        return np.array([[float(abs(mpf(g) - w)) for g, w in zip(grow, wrow)] for grow, wrow in zip(got, want)])


def exact_omega(freqs) -> list | None:
    """The exact inverse frequencies (mpf) of a ``Frequencies`` drawn by the suite: its variant's formula in
    mpmath at its recorded parameters (:mod:`spec_tests.mp_variants`); None when float64 and exact arithmetic make
    a discontinuous choice differently (the case is then skipped)."""
    params = {key: value for key, value in freqs.params.items() if key != "theta"}
    theta = freqs.params["theta"]
    omega, choices = R.reference(freqs.variant, freqs.rotary_dim, theta, params)
    return omega if R.choices_agree_with_float64(choices, freqs.variant, freqs.rotary_dim, theta, params) else None


def _bias_values(bias, r: np.ndarray, h: int) -> np.ndarray | None:
    """The float64 values the bias callable returns at the float64 distances ``r``, head ``h``."""
    if bias is None:
        return None
    values = np.asarray(bias(r.copy()), dtype=np.float64)
    if values.ndim > r.ndim:
        values = values[..., min(h, values.shape[-3] - 1), :, :]
    return np.broadcast_to(values, r.shape)


def problem(case, omega: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scores, probs, output)`` of an :class:`spec_tests.attn_strategies.AttnCase` as object arrays of mpf, shaped
    as refrope's results (masked scores None), every head by :func:`head`."""
    q, k, v, kw = case.q, case.k, case.v, case.kwargs
    batch, (heads_q, n_q, d), n_k = q.shape[:-3], q.shape[-3:], k.shape[-2]
    group = heads_q // k.shape[-3]
    pq, pk = (np.broadcast_to(p, batch + (n,)) for p, n in zip(case.positions(), (n_q, n_k)))
    mask = kw.get("key_mask")
    mask = None if mask is None else np.broadcast_to(mask, batch + (n_k,))
    relpos = rp.resolve(kw.get("relpos", "rope"))
    nope = relpos.name == "none"
    scores = np.empty(q.shape[:-1] + (n_k,), dtype=object)
    probs, out = np.empty_like(scores), np.empty(q.shape[:-1] + (v.shape[-1],), dtype=object)
    for b in np.ndindex(*batch):
        factor = logit_multiplier(case.freqs, pq[b], d, scale=kw.get("scale"), query_scale=kw.get("query_scale"),
                                  mscale_all_dim=kw.get("mscale_all_dim"))
        r = pq[b][:, None] - pk[b][None, :]
        for h in range(heads_q):
            kv = b + (h // group,)
            s, p, o = head(q[b + (h,)], k[kv], v[kv], [] if nope else omega, case.freqs.attention_factor, pq[b],
                           pk[b], factor, relpos=relpos, layout=kw.get("layout", "half"),
                           causal=kw.get("causal", True), window=kw.get("sliding_window"),
                           key_mask=None if mask is None else mask[b], chunk=kw.get("chunk_size"),
                           bias=_bias_values(kw.get("bias"), r, h))
            scores[b + (h,)], probs[b + (h,)], out[b + (h,)] = s, p, o
    return scores, probs, out
