"""Conformance inputs of attention: every relative-position map and query scale, causal or not with queries that
span the keys (so r < 0 is compared), every layout, ``scale`` given or not, pass-through coordinates (before the
rotary slice too), batch axes and per-batch positions, GQA groups 1, 2, 4 and 8, rotary dimensions 2 to 8, 128 and
256, positions up to 2^20 with gaps between keys, and logits up to :data:`LARGEST_LOGIT` (past every dtype's exp
overflow without max-subtraction).

:func:`attention_case` is a function of a chooser (:mod:`spec_tests.branches`): every branch above is one labelled
choice, forced by the explicit plans of the test.
"""

from __future__ import annotations

import numpy as np

import refrope
from refrope import query_scale as qs
from refrope import relpos as rp

from .strategies import MAX_POSITION, batch_kind, batch_shape, theta

ATTENTION_CASES = (*rp.MAPS, *qs.SCALES, "deepseek_mscale", "dynamic_ntk", "gqa", "sliding_window", "key_mask")
"""The attention configurations each dtype is checked under (one parametrized test each): every relative-position
map and query scale of the registries, then magnitudes, GQA and masks."""
ATTENTION_PLANS = 24
"""Explicit examples per attention test: one factor at a time (:class:`spec_tests.branches.Plan`; about 20 options
other than the first), then mixes weighted to positions from 0 and unit logits (where the budget is tightest)."""
GROUPS = (1, 2, 4, 8)
LARGEST_LOGIT = (100.0, 1024.0)
"""The range of the largest softmax input (after every factor) of a large-logit example: exp overflows float16
above 11.09 and bfloat16 and float32 above 88.72, so a softmax without max-subtraction returns inf or NaN there."""
FIRST_POSITION = ("zero", "past 2^16", "near 2^20", "anywhere")
"""Where a sequence starts: at 0, just past the 65,536 rows of a 64k cos/sin cache, near 2^20, anywhere below 2^20.
(Near 2^20 the float32 angle term of [N-ATTN-1] is about 0.25 rad, so only gross errors show there.)"""


def _row(c, where: str, gaps: bool, spanning: bool, n_q: int, n_k: int) -> tuple[np.ndarray, np.ndarray]:
    """One sequence's ``(positions_q, positions_k)``: keys ascending from the first position (with gaps of up to
    1024), queries the last keys or spanning them (the first key and the last key among them)."""
    steps = [c.integer(1, 1024, favour=(1, 2), label="gap") if gaps else 1 for _ in range(n_k - 1)]
    offsets = np.concatenate([[0], np.cumsum(steps)]).astype(np.int64)
    span = int(offsets[-1])
    p0 = {"zero": 0, "past 2^16": 2**16 + c.integer(0, 64, label="past 2^16"),
          "near 2^20": MAX_POSITION - span - c.integer(0, 16, label="below 2^20"),
          "anywhere": c.integer(0, MAX_POSITION - span, label="first position")}[where]
    pk = p0 + offsets
    if not spanning:
        return pk[n_k - n_q:], pk
    low, high = max(0, int(pk[0]) - n_k), int(pk[-1]) + n_k
    pq = np.array([c.integer(low, high, label="query position") for _ in range(n_q)], dtype=np.int64)
    pq[0] = pk[0]
    if n_q > 1:
        pq[-1] = pk[-1]
    return pq, pk


def _positions(c, rows: tuple[int, ...], n_q: int, n_k: int):
    where = c.choice(FIRST_POSITION, label="first position", weights=(4, 2, 1, 1))
    gaps = c.boolean(label="key gaps")
    spanning = c.choice(("spanning", "last keys"), label="queries") == "spanning"
    n_q = n_q if spanning else min(n_q, n_k)
    pairs = []
    for row in range(int(np.prod(rows))):  # each sequence at its own offset, its queries moved against its keys
        pq, pk = _row(c, where, gaps, spanning, n_q, n_k)
        shift = c.integer(1, 64, label="sequence offset") if row else 0
        pairs.append((pq + shift + (c.integer(1, 8, label="query offset") if row else 0), pk + shift))
    return (np.stack([p for p, _ in pairs]).reshape(rows + (n_q,)), np.stack([k for _, k in pairs]).reshape(
        rows + (n_k,)))


def _freqs(c, case: str, d: int, seq_len: int):
    base = theta(c)
    if case == "deepseek_mscale":
        m = c.real(0.5, 1.5, favour=(1.0, 0.707), label="mscale")
        return refrope.inv_freq("yarn", d, theta=base, factor=c.real(4.0, 40.0, label="factor"),
                                original_max_position_embeddings=4096, mscale=m, mscale_all_dim=m)
    if case == "dynamic_ntk":  # the current length: HF's max(position_ids) + 1
        return refrope.inv_freq("dynamic_ntk", d, theta=base, factor=c.real(2.0, 16.0, label="factor"),
                                original_max_position_embeddings=2, seq_len=seq_len)
    return refrope.inv_freq("default", d, theta=base)


def _amplified(c, q, k, freqs, options):
    """``q`` and ``k`` times one factor so that the largest softmax input is a drawn value of
    :data:`LARGEST_LOGIT` (the sign of both flipped if the largest magnitude is negative)."""
    target = c.real(*LARGEST_LOGIT, favour=LARGEST_LOGIT, label="largest logit")
    s = refrope.attention_scores(q, k, freqs, method="direct", **options)
    s = s[np.isfinite(s)]
    top, bottom = float(np.max(s, initial=0.0)), float(-np.min(s, initial=0.0))
    if max(top, bottom) * 1e5 < target:  # (nearly) zero logits cannot be amplified without overflowing float16
        return q, k
    root = np.sqrt(target / max(top, bottom))
    return (q * root if top >= bottom else -q * root), k * root


def attention_case(c, case: str, *, flags=frozenset({"gqa", "batch", "batch_positions", "rotary_offset"}),
                   batch=None):
    """``(q, k, v, freqs, options)`` for attention under one configuration of :data:`ATTENTION_CASES`; ``flags`` the
    backend's (GQA groups above 1 need ``gqa``, batch axes ``batch``, per-batch positions ``batch_positions``, a
    rotary slice after pass-through coordinates ``rotary_offset``), ``batch`` forces a batch kind."""
    size = c.choice(("small", 128, 256), label="rotary dim", weights=(4, 1, 1))
    d = 2 * c.integer(1, 4, label="pairs") if size == "small" else size
    head = d + (c.integer(1, 3, label="pass_through") if c.boolean(label="pass-through coordinates") else 0)
    group = c.choice(GROUPS[1:] if case == "gqa" else GROUPS, label="gqa group")
    group = group if "gqa" in flags else 1
    heads_kv = c.choice((2, 1), label="kv heads")
    kind = batch_kind(c, flags, batch)
    lead = batch_shape(c, kind)
    n_k = c.integer(2, 6, label="n_k")
    pq, pk = _positions(c, lead if kind == "positions" else (), c.integer(1, 6, label="n_q"), n_k)
    n_q = pq.shape[-1]
    q = c.array(lead + (heads_kv * group, n_q, head), -2.0, 2.0, label="q")
    k = c.array(lead + (heads_kv, n_k, head), -2.0, 2.0, label="k")
    v = c.array(lead + (heads_kv, n_k, c.integer(1, 3, label="dv")), -2.0, 2.0, label="v")
    options = {"positions_q": pq, "positions_k": pk, "layout": c.choice(refrope.LAYOUTS, label="layout"),
               "causal": c.choice((False, True), label="causal"),
               "relpos": rp.MAPS[case].draw(c, 4) if case in rp.MAPS else "rope",
               "query_scale": qs.SCALES[case].draw(c, 64) if case in qs.SCALES else None}
    if "rotary_offset" in flags and head > d and c.choice(("at an offset", "first"), label="rotary slice") != "first":
        options["rotary_offset"] = c.integer(1, head - d, label="rotary offset")  # [pass | rot | pass], as MLA
    if c.boolean(label="scale given"):
        options["scale"] = c.real(0.01, 2.0, favour=(0.125, 1.0), label="scale")
    if case == "deepseek_mscale":
        options["mscale_all_dim"] = c.real(0.5, 1.5, favour=(1.0, 0.707), label="mscale_all_dim")
    if case == "sliding_window":
        options["sliding_window"] = c.integer(1, max(3, int(pk.max() - pk.min()) + 1), favour=(1, 2), label="window")
    if case == "key_mask":
        options["key_mask"] = c.array(lead + (n_k,), 0.0, 1.0, label="key_mask") < 0.75  # padding per sequence
    freqs = _freqs(c, case, d, int(max(pq.max(), pk.max())) + 1)
    if c.choice(("unit", "large"), label="logits", weights=(3, 1)) == "large":
        q, k = _amplified(c, q, k, freqs, options)
    return q, k, v, freqs, options
