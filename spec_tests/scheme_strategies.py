"""Strategies and independent formulas for the schemes of docs/spec/schemes.md: biases drawn from the registry (or
per head), the biases written from the papers (ALiBi arXiv:2108.12409, KERPLE arXiv:2205.09921, Sandwich
arXiv:2212.10356, kexue.fm/archives/9431), not from refrope's code."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from refrope import bias as bs
from spec_tests.strategies import HypothesisChooser


@st.composite
def _registry_draw(draw, entry, reach):
    return entry.draw(HypothesisChooser(draw), reach)


@st.composite
def biases(draw, heads_q: int, reach: int = 24):
    """None, a bias of :data:`refrope.bias.BIASES` (its registry draw), or per-head ALiBi / Sandwich / KERPLE."""
    kind = draw(st.sampled_from(["none", "registry", "per-head"]), label="bias kind")
    if kind == "none":
        return None
    if kind == "registry":
        return draw(st.one_of(*(_registry_draw(entry, reach) for entry in bs.BIASES.values())), label="bias")
    lams = draw(st.lists(st.floats(0.01, 2.0), min_size=heads_q, max_size=heads_q), label="per-head values")
    return draw(st.sampled_from([bs.alibi(bs.alibi_slopes(heads_q)), bs.sandwich(lams, 4),
                                 bs.kerple_log(lams, 1.0), bs.kerple_power(1.0, [min(v, 2.0) for v in lams])]),
                label="per-head bias")


def _at(value, h: int) -> float:
    return float(value[h] if isinstance(value, tuple) else value)


def bias_expected(bias, r: float, h: int) -> float:
    """The biases of docs/spec/schemes.md written from the papers' formulas (not refrope's code), head ``h``."""
    if bias is None:
        return 0.0
    a, name = abs(r), type(bias).__name__
    if name == "_ALiBi":
        return -_at(bias.slopes, h) * a
    if name == "_KerplePower":
        return -_at(bias.r1, h) * a ** _at(bias.r2, h)
    if name == "_KerpleLog":
        return -_at(bias.r1, h) * math.log1p(_at(bias.r2, h) * a)  # log(1 + x), accurate for small x
    if name == "_Sandwich":
        terms = [math.cos(r * bias.theta ** (-2 * i / bias.dim)) for i in range(bias.dim // 2)]
        return _at(bias.lam, h) * (math.fsum(terms) - bias.dim / 2)
    return float(np.broadcast_to(bias(np.array([[r]])), (h + 1, 1, 1))[h, 0, 0])  # a custom callable
