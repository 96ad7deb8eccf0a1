"""Conformance of inv_freq: [K-FREQ-1] within [N-FREQ-1] for every variant the backend implements."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope

from .checks import check_inv_freq
from .strategies import freq_cases

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize("variant", sorted(refrope.VARIANTS))
@given(data=st.data())
def test_inv_freq(backend, require, record, variant, data):
    """[K-FREQ-1] [N-FREQ-1] The backend's inverse frequencies and attention factor are within the budget of
    the oracle's, computed in its angle dtype."""
    require("inv_freq", variant=variant)
    rotary_dim, theta, params = data.draw(freq_cases(variant), label="case")
    record(check_inv_freq(backend, variant, rotary_dim, theta, params))


@pytest.mark.parametrize("variant", sorted(refrope.VARIANTS))
@given(data=st.data())
def test_inv_freq_rotary_dim_2(backend, require, record, variant, data):
    """[K-FREQ-1] [N-FREQ-1] The same at the smallest rotary dimension, 2 (one pair, omega_0 = 1 for the
    theta-power variants): exponents d/(d - 2) must not divide by zero."""
    require("inv_freq", variant=variant)
    rotary_dim, theta, params = data.draw(freq_cases(variant, pairs=st.just(1)), label="case")
    record(check_inv_freq(backend, variant, rotary_dim, theta, params))
