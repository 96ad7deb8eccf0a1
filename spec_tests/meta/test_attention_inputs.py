"""[K-ATTN-1] [K-BRANCH-1]: what the attention plans put in front of a backend: logits past every exp overflow,
r < 0 for every map, and a budget whose largest angle is :func:`refrope.budgets.max_attention_angle`'s."""

from __future__ import annotations

import numpy as np
import pytest

import refrope
from refrope import budgets
from refrope import relpos as rp
from refrope.backends import load_backend

from ..branches import Plan, _planned
from ..conformance import checks
from ..conformance.strategies_attention import ATTENTION_CASES, ATTENTION_PLANS, LARGEST_LOGIT, attention_case

EXP_OVERFLOW = {"float16": np.log(65504.0), "bfloat16": np.log(3.3895e38), "float32": np.log(3.4028235e38)}
PLANS = [Plan(i) for i in range(ATTENTION_PLANS)]


def _cases(case):
    for plan in PLANS:
        (q, k, v, freqs, options), chooser = _planned(plan, attention_case, case)
        yield q, k, v, freqs, options, chooser.reached


@pytest.mark.parametrize("case", ATTENTION_CASES)
def test_large_logit_plans_overflow_every_exp(case):
    """[K-ATTN-1] Each attention test has a plan whose largest softmax input lies in [100, 1024] (every large-logit
    plan does, unless all its logits are 0): past the overflow of exp in float16 (11.09), bfloat16 and float32
    (88.72), so a softmax without max-subtraction returns inf or NaN."""
    largest = []
    for q, k, _, freqs, options, reached in _cases(case):
        if ("logits", 1) in reached:
            s = refrope.attention_scores(q, k, freqs, method="direct", **options)
            largest.append(float(np.max(s[np.isfinite(s)])))
    large = [s for s in largest if s != 0.0]  # 0: every logit is 0 (logn at position 0 has sigma = 0)
    assert large, f"no plan draws large logits: {largest}"
    assert all(LARGEST_LOGIT[0] * (1 - 1e-9) <= s <= LARGEST_LOGIT[1] * (1 + 1e-9) for s in large), largest
    assert min(large) > max(EXP_OVERFLOW.values())


@pytest.mark.parametrize("case", [c for c in rp.MAPS if c != "none"])
def test_every_map_is_compared_at_negative_distances(case):
    """[K-ATTN-1] For every relative-position map a plan is non-causal with a visible pair at r = p_q - p_k < 0, and
    for a windowed map one with r < -w (the odd extension's outer piece)."""
    deepest = []
    for _, _, _, _, options, _ in _cases(case):
        if not options["causal"]:
            r = np.asarray(options["positions_q"])[..., :, None] - np.asarray(options["positions_k"])[..., None, :]
            deepest.append((float(r.min()), options["relpos"]))
    assert deepest and min(r for r, _ in deepest) < 0
    f = rp.resolve(deepest[0][1])
    if np.isfinite(f.inner_window):
        assert any(r < -m.inner_window for r, m in deepest)


@pytest.mark.parametrize("case", [c for c in rp.MAPS if c != "none"])
def test_the_budget_angle_is_max_attention_angle(monkeypatch, case):
    """[K-ATTN-1] [N-ATTN-1] The attention check takes its largest angle from refrope.budgets.max_attention_angle for
    every map, per-batch and non-causal positions included, and that angle bounds |f(p_q - p_k)| max(omega) and
    |p| max(omega) computed pair by pair."""
    seen = {}
    angle_of, budget_of = budgets.max_attention_angle, budgets.attention_budget

    def angle(relpos, pq, pk, omega):
        seen["angle"] = angle_of(relpos, pq, pk, omega)
        seen["relpos"] = relpos
        return seen["angle"]

    def budget(*args, **kwargs):
        seen["budget angle"] = kwargs["max_angle"]
        return budget_of(*args, **kwargs)

    monkeypatch.setattr(checks.tol, "max_attention_angle", angle)
    monkeypatch.setattr(checks.tol, "attention_budget", budget)
    oracle = load_backend("refrope")
    for q, k, v, freqs, options, _ in _cases(case):
        if options["causal"]:
            continue
        checks.check_attention(oracle, "float64", q, k, v, freqs, **options)
        assert seen["relpos"] is options["relpos"] and seen["budget angle"] == seen["angle"]
        pq, pk = (np.asarray(options[name], dtype=np.float64) for name in ("positions_q", "positions_k"))
        f, top = rp.resolve(options["relpos"]), float(np.max(freqs.inv_freq))
        pairs = np.abs(f(pq[..., :, None] - pk[..., None, :])).max() * top
        assert seen["angle"] >= max(pairs, np.abs(pq).max() * top, np.abs(pk).max() * top) * (1 - 1e-12)
