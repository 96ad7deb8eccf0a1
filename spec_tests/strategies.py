"""Hypothesis strategies for the core suite: small arrays, large positions, valid variant parameters.

Every strategy draws NumPy-ready values. Variant parameters are drawn per variant by
:func:`variant_params`, always valid for the drawn ``rotary_dim``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope
from refrope.frequencies import draws

from .branches import record, weighted

LAYOUTS = refrope.LAYOUTS
VARIANT_NAMES = sorted(refrope.VARIANTS)

rotary_dims = st.integers(1, 24).map(lambda n: 2 * n)
famous_thetas = st.sampled_from([10_000.0, 500_000.0, 1_000_000.0, 150_000.0])
thetas = famous_thetas | st.floats(2.0, 1e7, allow_nan=False, allow_infinity=False)
# values whose squares would underflow are flushed to 0, so norm-based bounds stay meaningful
small_floats = st.floats(-4.0, 4.0, allow_nan=False, allow_subnormal=False, width=64).map(
    lambda v: 0.0 if abs(v) < 1e-100 else v)


def positions(max_value: int = 2**20):
    """Integer positions, long-context sized."""
    return st.integers(0, max_value)


def vectors(d: int, *, rows: int | None = None):
    """A float64 array of shape ``(rows, d)`` (or ``(d,)``) with entries in [-4, 4]."""
    shape = (d,) if rows is None else (rows, d)
    return hnp.arrays(np.float64, shape, elements=small_floats)


LARGE = 128
"""Arrays with more entries than this are drawn from a seeded generator (hypothesis would exceed its data budget)."""


class HypothesisChooser:
    """The :class:`refrope.frequencies.params.Chooser` of a registry draw, backed by hypothesis' ``data.draw``.

    Every choice is labelled (``label``) and, for ``choice`` and ``boolean``, reported to hypothesis as an
    ``event`` (``"<label>: <value>"``), so a run's statistics show which branches it reached, and counted in
    :data:`spec_tests.branches.REACHED` (``boolean``'s options are ``(False, True)``).
    """

    def __init__(self, draw) -> None:
        self._draw = draw

    def real(self, low, high, *, favour=(), label):
        strategy = st.floats(low, high, allow_nan=False, allow_infinity=False)
        return self._draw(st.sampled_from(list(favour)) | strategy if favour else strategy, label=label)

    def integer(self, low, high, *, favour=(), label):
        strategy = st.integers(low, high)
        return self._draw(st.sampled_from(list(favour)) | strategy if favour else strategy, label=label)

    def boolean(self, *, label):
        value = self._draw(st.booleans(), label=label)
        event(f"{label}: {value}")
        record(label, int(value))
        return value

    def choice(self, options, *, label, weights=None):
        """One of ``options``; with ``weights`` (the suite's extension) in those proportions."""
        options = list(options)
        if weights is None:
            index = self._draw(st.integers(0, len(options) - 1), label=label)
        else:
            index = weighted(weights, self._draw(st.integers(0, 2**16 - 1), label=label) / 2**16)
        event(f"{label}: {options[index]}")
        record(label, index)
        return options[index]

    def reals(self, n, low, high, *, label):
        return self._draw(st.lists(st.floats(low, high), min_size=n, max_size=n), label=label)

    def array(self, shape, low, high, *, label):
        """A float64 array of ``shape`` with entries in ``[low, high]`` (magnitudes below 1e-30 flushed to 0);
        above :data:`LARGE` entries, from a NumPy generator whose seed hypothesis draws."""
        if int(np.prod(shape)) > LARGE:
            return np.random.default_rng(self._draw(st.integers(0, 2**32 - 1), label=label + " seed")).uniform(
                low, high, shape)
        elements = st.floats(low, high, allow_nan=False, allow_subnormal=False).map(
            lambda v: 0.0 if abs(v) < 1e-30 else v)
        return self._draw(hnp.arrays(np.float64, tuple(shape), elements=elements), label=label)


@st.composite
def _chosen(draw, pick):
    return pick(HypothesisChooser(draw))


factors = _chosen(draws.factor)
"""An extension factor k in [1, 64] (the registry's domain, :func:`refrope.frequencies.draws.factor`)."""
lengths = _chosen(draws.length)
"""A pre-training length L in [16, 16384] (:func:`refrope.frequencies.draws.length`)."""


@st.composite
def _drawn(draw, variant: str, rotary_dim: int):
    return refrope.VARIANTS[variant].draw(rotary_dim, HypothesisChooser(draw))


def variant_params(variant: str, rotary_dim: int):
    """Valid parameters of ``variant`` for ``rotary_dim``: the registry's draw (:attr:`refrope.Variant.draw`)."""
    return _drawn(variant, rotary_dim)


@st.composite
def frequencies(draw, variant: str | None = None, rotary_dim: int | None = None):
    """A :class:`refrope.Frequencies` of a drawn (or given) variant, dimension and theta."""
    name = variant or draw(st.sampled_from(VARIANT_NAMES), label="variant")
    d = rotary_dim or draw(rotary_dims, label="rotary_dim")
    theta = draw(thetas, label="theta")
    params = draw(variant_params(name, d), label="params")
    return refrope.inv_freq(name, d, theta=theta, **params)
