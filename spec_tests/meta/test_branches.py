"""[K-BRANCH-1]: every branch a conformance strategy declares is reached by the explicit plans of its test, in a run
of the test itself; the check finds a branch the plans miss."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import refrope
from refrope.backends import load_backend

from .. import branches
from ..branches import Plan, declared, drawn, reached_by, unreached, with_plans
from ..conformance import test_conformance_attention as attention_tests
from ..conformance import test_conformance_freq as freq_tests
from ..conformance import test_conformance_rope as rope_tests
from ..conformance.strategies import freq_case, rope_case
from ..conformance.strategies_attention import ATTENTION_CASES, attention_case

VARIANTS = sorted(refrope.VARIANTS)
ALL_FLAGS = frozenset({"gqa", "batch", "batch_positions"})
STRATEGIES = [
    *[pytest.param(rope_tests.test_apply_rope, rope_case, (v,), {"offsets": True, "flags": ALL_FLAGS},
                   id=f"apply_rope-{v}") for v in VARIANTS],
    *[pytest.param(freq_tests.test_inv_freq, freq_case, (v,), {}, id=f"inv_freq-{v}") for v in VARIANTS],
    *[pytest.param(freq_tests.test_inv_freq_rotary_dim_2, freq_case, (v,), {"pairs": 1}, id=f"inv_freq_2-{v}")
      for v in VARIANTS],
    *[pytest.param(attention_tests.test_attention, attention_case, (c,), {"flags": ALL_FLAGS}, id=f"attention-{c}")
      for c in ATTENTION_CASES],
]


@pytest.mark.parametrize(("test", "strategy", "args", "kwargs"), STRATEGIES)
def test_the_plans_reach_every_declared_branch(test, strategy, args, kwargs):
    """[K-BRANCH-1] The explicit plans of each conformance test select every option of every labelled choice its
    strategy can make (found by forcing each option in turn), with every flag declared."""
    found = declared(strategy, *args, **kwargs)
    assert unreached(found, reached_by(test.refrope_plans, strategy, *args, **kwargs)) == []


def _toy(c, *, nested: bool = False):
    mode = c.choice(("a", "b", "c"), label="mode")
    if nested and mode == "c":
        c.boolean(label="only under c")
    return c.boolean(label="flag")


def test_the_check_finds_a_missed_branch():
    """[K-BRANCH-1] The check can fail: too few plans miss the third mode and the flag, and a choice reached only
    under another branch is declared and reported when no plan reaches its second option."""
    assert declared(_toy) == {("mode", 0), ("mode", 1), ("mode", 2), ("flag", 0), ("flag", 1)}
    assert unreached(declared(_toy), reached_by([Plan(0), Plan(1)], _toy)) == ["flag=1", "mode=2"]
    assert unreached(declared(_toy), reached_by([Plan(i) for i in range(4)], _toy)) == []
    nested = declared(_toy, nested=True)
    assert ("only under c", 1) in nested
    assert unreached(nested, reached_by([Plan(i) for i in range(4)], _toy, nested=True)) == ["only under c=1"]


def test_plans_are_one_factor_at_a_time_then_mixes():
    """[K-BRANCH-1] Plan 0 takes every first option, plan k the k-th other option alone, a plan past the last one a
    weighted mix; the same plan draws the same values every time."""
    chosen = [branches._planned(Plan(i), _toy)[1].reached for i in range(5)]
    assert chosen[:4] == [{("mode", 0), ("flag", 0)}, {("mode", 1), ("flag", 0)}, {("mode", 2), ("flag", 0)},
                          {("mode", 0), ("flag", 1)}]
    assert len(chosen[4]) == 2
    a, b = (drawn(Plan(7), attention_case, "rerope") for _ in range(2))
    assert all(np.array_equal(x, y) for x, y in zip(a[:3], b[:3]))


@pytest.mark.parametrize(("test", "probe"), [(freq_tests.test_inv_freq, {"variant": "yarn"}),
                                             (freq_tests.test_inv_freq, {"variant": "longrope"}),
                                             (attention_tests.test_attention, {"case": "rerope", "dtype": "float64"})])
def test_a_run_of_the_test_reaches_every_branch(test, probe):
    """[K-BRANCH-1] Running the conformance test itself (its explicit plans, on the oracle backend) counts every
    declared branch in :data:`spec_tests.branches.REACHED`."""
    strategy, args, kwargs = {"test_inv_freq": (freq_case, (probe.get("variant"),), {}),
                              "test_attention": (attention_case, (probe.get("case"),), {"flags": ALL_FLAGS})}[
        test.__name__]
    inner = given(data=st.data())(test.hypothesis.inner_test)
    for plan in reversed(test.refrope_plans):
        inner = example(data=plan)(inner)
    run = settings(phases=[Phase.explicit], database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))(inner)
    branches.REACHED.clear()
    run(backend=load_backend("refrope"), require=lambda *a, **k: None, record=lambda ratio: None, **probe)
    assert unreached(declared(strategy, *args, **kwargs), set(branches.REACHED)) == []


def test_hypothesis_draws_count_too():
    """[K-BRANCH-1] The hypothesis chooser counts each labelled choice and reports it as an event."""
    branches.REACHED.clear()

    @with_plans(0)
    @settings(max_examples=30, database=None, derandomize=True)
    @given(data=st.data())
    def run(data):
        drawn(data, _toy)

    run()
    assert {label for label, _ in branches.REACHED} == {"mode", "flag"}
