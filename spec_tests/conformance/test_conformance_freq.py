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
def test_inv_freq(backend, require, variant, data):
    """[K-FREQ-1] [N-FREQ-1] The backend's inverse frequencies and attention factor are within the budget of
    the oracle's, computed in its angle dtype."""
    require("inv_freq", variant=variant)
    rotary_dim, theta, params = data.draw(freq_cases(variant), label="case")
    check_inv_freq(backend, variant, rotary_dim, theta, params)
