"""Conformance of the multimodal rotations: [K-ND-1], [K-MROPE-1], [K-VISION-1], [K-INPUT-1]
(docs/spec/conformance.md); budget [N-ROPE-1] with each pair's own axis (docs/spec/numerics.md).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope.multimodal import MODES, VISION_KINDS

from .checks_nd import check_apply_mrope, check_apply_rope_nd, check_apply_vision_rope
from .strategies_nd import mrope_cases, nd_cases, vision_cases

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize("layout", refrope.LAYOUTS)
@given(data=st.data())
def test_apply_rope_nd(backend, require, record, dtype, layout, data):
    """[K-ND-1] [K-INPUT-1] [N-ROPE-1] apply_rope_nd of the backend, any map of the pairs onto one to four position
    axes, positions up to 2^20, is within the per-pair budget of the oracle; pass-through exact; input untouched."""
    require("apply_rope_nd", layout=layout)
    offsets = "rotary_offset" in backend.capabilities
    x, positions, freqs, axes, offset = data.draw(nd_cases(offsets=offsets), label="case")
    record(check_apply_rope_nd(backend, dtype, x, positions, freqs, axes=axes, layout=layout, rotary_offset=offset))


@pytest.mark.parametrize("layout", refrope.LAYOUTS)
@pytest.mark.parametrize("case", MODES)
@given(data=st.data())
def test_apply_mrope(backend, require, record, dtype, case, layout, data):
    """[K-MROPE-1] [K-INPUT-1] [N-ROPE-1] apply_mrope of the backend (``case`` the mode), with the sections of
    Qwen2-VL, Qwen3-VL, Qwen3.5 and random ones, text, video and random position rows, partial rotary, is within
    the per-pair budget of the oracle; pass-through exact; input untouched."""
    require("apply_mrope", layout=layout, mrope=case)
    offsets = "rotary_offset" in backend.capabilities
    x, positions, freqs, sections, offset = data.draw(mrope_cases(offsets=offsets), label="case")
    record(check_apply_mrope(backend, dtype, x, positions, freqs, sections=sections, mode=case, layout=layout,
                             rotary_offset=offset))


@pytest.mark.parametrize("case", sorted(VISION_KINDS))
@given(data=st.data())
def test_apply_vision_rope(backend, require, record, dtype, case, data):
    """[K-VISION-1] [K-INPUT-1] [N-ROPE-1] apply_vision_rope of the backend (``case`` the tower) on grids up to
    5 x 5 patches (Qwen2-VL with frames and merge sizes 1 to 3), head sizes up to 96, is within the per-pair budget
    of the oracle's tokens, positions and frequencies; input untouched."""
    require("apply_vision_rope", vision=case)
    x, grid, theta, merge = data.draw(vision_cases(case), label="case")
    record(check_apply_vision_rope(backend, dtype, x, case, grid=grid, theta=theta, spatial_merge_size=merge))
