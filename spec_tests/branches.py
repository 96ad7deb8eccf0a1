"""Branches of the suite's strategies, each reached for certain ([K-BRANCH-1], docs/spec/conformance.md).

A strategy selects a branch (YaRN's magnitude rule, causal or not, the layout, a GQA group, ...) with a labelled
``choice`` or ``boolean`` of its chooser (:class:`refrope.frequencies.params.Chooser`), never with a bare draw.
Every selection is counted in :data:`REACHED` as ``(label, index of the option)``.

A strategy is written once, as a function ``f(chooser, ...)``, and runs two ways:

* under hypothesis, through :class:`spec_tests.strategies.HypothesisChooser` (random; shrinkable);
* as an explicit example (``@example(data=Plan(i))``, added by :func:`with_plans`), one factor at a time: plan 0
  takes option 0 of every labelled selection, plan ``k >= 1`` the ``k``-th option other than 0 in the order the
  strategy meets its labels (every other selection at option 0), and a plan past the last such option a
  pseudo-random option of every label by the choice's ``weights``; every other value comes from a NumPy generator
  seeded with ``i``. Plans ``0 .. N - 1`` reach every option of every label when ``N`` exceeds the number of
  options other than 0, in every profile, before hypothesis draws anything. A strategy lists first the option that
  tests most (non-causal, queries spanning the keys, positions from 0, unit logits, ...), so that each plan varies
  one thing against the strictest setting.

``choice`` takes optional ``weights`` (an extension of the protocol for the suite's own strategies): hypothesis and
the mixing plans draw the options in those proportions (the configurations that test most, more often).

:func:`declared` finds every ``(label, index)`` a strategy can reach (a search over forced options), and
:func:`unreached` what a set of plans misses; spec_tests/meta/test_branches.py asserts that nothing is missed.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import example

__all__ = ["REACHED", "record", "Plan", "PlanChooser", "weighted", "with_plans", "drawn", "declared", "reached_by",
           "unreached"]

REACHED: Counter = Counter()
"""``(label, index) -> count`` of every branch selected in this process (both choosers count)."""


def record(label: str, index: int) -> None:
    """Count one selection of option ``index`` of the labelled branch ``label``."""
    REACHED[(label, index)] += 1


class PlanChooser:
    """A deterministic :class:`~refrope.frequencies.params.Chooser`: ``force(label, n)`` picks each labelled option,
    a NumPy generator every other value (favoured values half of the time). ``seen`` maps each label to its number
    of options; ``reached`` holds the ``(label, index)`` pairs this chooser selected."""

    def __init__(self, force: Callable[[str, int, Sequence[float] | None], int], seed: int) -> None:
        self._force = force
        self._rng = np.random.default_rng(seed)
        self.seen: dict[str, int] = {}
        self.reached: set[tuple[str, int]] = set()

    def _pick(self, options: Sequence[Any], label: str, weights: Sequence[float] | None = None) -> Any:
        index = self._force(label, len(options), weights) % len(options)
        self.seen[label] = len(options)
        self.reached.add((label, index))
        return options[index]

    def real(self, low, high, *, favour=(), label):
        if favour and self._rng.random() < 0.5:
            return float(favour[int(self._rng.integers(len(favour)))])
        return float(self._rng.uniform(low, high))

    def integer(self, low, high, *, favour=(), label):
        """A favoured value half of the time, else ``low + floor((high - low + 1) u^3)``: small values first, as a
        shrunk example would have them (a failing plan is reported as it is)."""
        if favour and self._rng.random() < 0.5:
            return int(favour[int(self._rng.integers(len(favour)))])
        return int(min(high, low + np.floor((high - low + 1) * self._rng.random() ** 3)))

    def boolean(self, *, label):
        return self._pick((False, True), label)

    def choice(self, options, *, label, weights=None):
        return self._pick(list(options), label, weights)

    def reals(self, n, low, high, *, label):
        return [float(v) for v in self._rng.uniform(low, high, n)]

    def array(self, shape, low, high, *, label):
        """A float64 array of ``shape`` with entries uniform in ``[low, high]``."""
        return self._rng.uniform(low, high, shape)


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


def weighted(weights: Sequence[float], unit: float) -> int:
    """The index whose share of ``weights`` holds ``unit`` in [0, 1).

    >>> weighted([3, 1], 0.7), weighted([3, 1], 0.8)
    (0, 1)
    """
    edges = np.cumsum(np.asarray(weights, dtype=np.float64))
    return int(min(np.searchsorted(edges, unit * edges[-1], side="right"), len(edges) - 1))


class Plan:
    """The ``data`` of an explicit example: plan ``index`` of a test (module docstring)."""

    def __init__(self, index: int) -> None:
        self.index = index

    def chooser(self, *, mix: bool = False) -> PlanChooser:
        """One factor at a time (``mix=False``; :attr:`PlanChooser.unused` tells whether the index was past the
        last option), or the pseudo-random mix."""
        if mix:
            return PlanChooser(lambda label, n, weights: weighted(weights or [1.0] * n,
                                                                   _hash(f"{label}:{self.index}") / 2**32),
                               seed=self.index)
        chosen: dict[str, int] = {}
        slot = [0]

        def force(label, n, weights):
            if label not in chosen:
                first = slot[0] + 1
                slot[0] += n - 1
                chosen[label] = self.index - first + 1 if first <= self.index <= slot[0] else 0
            return chosen[label]

        chooser = PlanChooser(force, seed=self.index)
        chooser.unused = lambda: self.index > slot[0]
        return chooser

    def __repr__(self) -> str:
        return f"Plan({self.index})"


def with_plans(count: int):
    """Decorate a ``@given(data=st.data())`` test with the explicit examples ``data=Plan(0) .. Plan(count - 1)``
    (outermost); the test draws through :func:`drawn`. The plans are kept as ``test.refrope_plans``."""
    plans = tuple(Plan(i) for i in range(count))

    def decorate(test):
        for plan in reversed(plans):
            test = example(data=plan)(test)
        test.refrope_plans = plans
        return test

    return decorate


def drawn(data: Any, strategy: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``strategy(chooser, *args, **kwargs)`` with the chooser of ``data``: a :class:`Plan`'s, or hypothesis' for
    ``st.data()`` (labelled with the strategy's name)."""
    if isinstance(data, Plan):
        value, chooser = _planned(data, strategy, *args, **kwargs)
        for label, index in chooser.reached:
            record(label, index)
        return value
    from hypothesis import strategies as st

    from .strategies import HypothesisChooser

    @st.composite
    def composite(draw):
        return strategy(HypothesisChooser(draw), *args, **kwargs)

    return data.draw(composite(), label=strategy.__name__)


def _planned(plan: Plan, strategy, *args, **kwargs) -> tuple[Any, PlanChooser]:
    """``(value, chooser)`` of ``plan`` driving ``strategy``: one factor at a time, or the mix past the last one."""
    chooser = plan.chooser()
    value = strategy(chooser, *args, **kwargs)
    if chooser.unused():
        chooser = plan.chooser(mix=True)
        value = strategy(chooser, *args, **kwargs)
    return value, chooser


def declared(strategy: Callable[..., Any], *args: Any, **kwargs: Any) -> set[tuple[str, int]]:
    """Every ``(label, index)`` that ``strategy(chooser, *args, **kwargs)`` can select: run with every option of
    every label found so far forced in turn (the others at option 0), until no run finds a new one."""
    found: set[tuple[str, int]] = set()
    todo: list[dict[str, int]] = [{}]
    tried: set[tuple[str, int]] = set()
    while todo:
        forced = todo.pop()
        chooser = PlanChooser(lambda label, n, weights, forced=forced: forced.get(label, 0), seed=len(tried))
        strategy(chooser, *args, **kwargs)
        found |= chooser.reached
        for label, n in chooser.seen.items():
            for index in range(n):
                if (label, index) not in found and (label, index) not in tried:
                    tried.add((label, index))
                    todo.append({**forced, label: index})
    return found


def reached_by(plans: Sequence[Plan], strategy: Callable[..., Any], *args: Any, **kwargs: Any) -> set:
    """The ``(label, index)`` pairs that ``plans`` select when they drive ``strategy``."""
    reached: set[tuple[str, int]] = set()
    for plan in plans:
        reached |= _planned(plan, strategy, *args, **kwargs)[1].reached
    return reached


def unreached(declared_branches: set, reached: set) -> list[str]:
    """``"label=index"`` for each declared branch not reached, sorted (empty when every branch is reached).

    >>> unreached({("causal", 0), ("causal", 1)}, {("causal", 1)})
    ['causal=0']
    """
    return sorted(f"{label}={index}" for label, index in declared_branches - reached)
