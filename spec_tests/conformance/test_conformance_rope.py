"""Conformance of apply_rope and cos_sin: [K-APPLY-1], [K-APPLY-2], [K-INPUT-1], [K-COSSIN-1]
(docs/spec/conformance.md).

Budgets: [N-ROPE-1], [N-ROPE-2], [N-COSSIN-1], [N-NAN-1] (docs/spec/numerics.md).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope

from ..branches import drawn, with_plans
from .checks import check_apply_rope, check_cos_sin
from .strategies import ROPE_PLANS, long_positions, rope_case, thetas
from .test_conformance_attention import flags_of

pytestmark = pytest.mark.conformance
VARIANTS = sorted(refrope.VARIANTS)


@pytest.mark.parametrize("layout", refrope.LAYOUTS)
@pytest.mark.parametrize("variant", VARIANTS)
@with_plans(ROPE_PLANS)
@given(data=st.data())
def test_apply_rope(backend, require, record, dtype, variant, layout, data):
    """[K-APPLY-1] [K-APPLY-2] [K-INPUT-1] [K-BRANCH-1] [N-ROPE-1] [N-ROPE-2] apply_rope of the backend is within
    the budget of the oracle (rotary dims up to 256, positions up to 2^24, theta up to 1e6, every branch of the
    variant's parameters, batch axes and per-batch positions as declared), pass-through coordinates exact, input
    untouched."""
    require("apply_rope", layout=layout)
    offsets = "rotary_offset" in backend.capabilities
    x, positions, freqs, offset = drawn(data, rope_case, variant, offsets=offsets, flags=flags_of(backend))
    record(check_apply_rope(backend, dtype, x, positions, freqs, layout=layout, rotary_offset=offset))


@pytest.mark.parametrize("layout", refrope.LAYOUTS)
@given(data=st.data())
def test_apply_rope_nan_inf_parity(backend, require, record, dtype, layout, data):
    """[N-NAN-1] [K-APPLY-1] A NaN input makes exactly the oracle's outputs NaN; an infinite pass-through
    coordinate stays infinite with its sign; an infinity in a pair at position 0 gives the oracle's inf/NaN."""
    require("apply_rope", layout=layout)
    d = 2 * data.draw(st.integers(1, 6), label="pairs")
    x = data.draw(hnp.arrays(np.float64, (3, d + 2), elements=st.floats(-4, 4)), label="x")
    row, col = data.draw(st.integers(0, 2)), data.draw(st.integers(0, d - 1))
    x[row, col] = np.nan
    x[(row + 1) % 3, d + 1] = -np.inf
    x[(row + 2) % 3, d] = np.inf
    positions = np.array(data.draw(st.lists(long_positions, min_size=3, max_size=3)))
    positions[(row + 2) % 3] = 0
    x[(row + 2) % 3, 0] = np.inf
    freqs = refrope.inv_freq("default", d, theta=data.draw(thetas))
    record(check_apply_rope(backend, dtype, x, positions, freqs, layout=layout))


@pytest.mark.parametrize("layout", refrope.LAYOUTS)
@given(data=st.data())
def test_cos_sin(backend, require, record, dtype, layout, data):
    """[K-COSSIN-1] [N-COSSIN-1] cos_sin tables of the backend, magnitude folded in, are within budget."""
    require("cos_sin", layout=layout)
    d = 2 * data.draw(st.sampled_from([32, 64]) | st.integers(1, 8), label="pairs")
    variant = data.draw(st.sampled_from(["default", "yarn", "longrope"]), label="variant")
    params = {"yarn": {"factor": 8.0, "original_max_position_embeddings": 4096},
              "longrope": {"short_factor": [1.0] * (d // 2), "long_factor": [4.0] * (d // 2),
                           "original_max_position_embeddings": 4096, "factor": 16.0, "seq_len": 8192}}
    freqs = refrope.inv_freq(variant, 2 * (d // 2), theta=data.draw(thetas, label="theta"), **params.get(variant, {}))
    positions = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 5)), elements=long_positions),
                          label="positions")
    record(check_cos_sin(backend, dtype, positions, freqs, layout=layout))
