"""Conformance of inv_freq: [K-FREQ-1] within [N-FREQ-1] for every variant the backend implements."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope

from ..branches import drawn, with_plans
from .checks import check_inv_freq
from .strategies import FREQ_PLANS, freq_case

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize("variant", sorted(refrope.VARIANTS))
@with_plans(FREQ_PLANS)
@given(data=st.data())
def test_inv_freq(backend, require, record, variant, data):
    """[K-FREQ-1] [K-BRANCH-1] [N-FREQ-1] The backend's inverse frequencies and attention factor are within the
    budget of the oracle's, computed in its angle dtype, for rotary dims 4 to 256 and every branch of the variant's
    parameters (YaRN's magnitude rules and truncate, seq_len at L - 1, L, L + 1, dynamic YaRN's regimes)."""
    require("inv_freq", variant=variant)
    rotary_dim, theta, params = drawn(data, freq_case, variant)
    record(check_inv_freq(backend, variant, rotary_dim, theta, params))


@pytest.mark.parametrize("variant", sorted(refrope.VARIANTS))
@with_plans(FREQ_PLANS)
@given(data=st.data())
def test_inv_freq_rotary_dim_2(backend, require, record, variant, data):
    """[K-FREQ-1] [N-FREQ-1] The same at the smallest rotary dimension, 2 (one pair, omega_0 = 1 for the
    theta-power variants): exponents d/(d - 2) must not divide by zero."""
    require("inv_freq", variant=variant)
    rotary_dim, theta, params = drawn(data, freq_case, variant, pairs=1)
    record(check_inv_freq(backend, variant, rotary_dim, theta, params))
