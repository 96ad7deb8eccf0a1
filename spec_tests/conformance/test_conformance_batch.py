"""Conformance with batch axes and per-batch positions: [K-BATCH-1] (docs/spec/conformance.md).

The apply_rope and attention tests draw these too where the backend declares them; these tests make sure they are
exercised, or skipped with the missing flag named ([K-SKIP-1]).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope.backends import supports

from ..branches import drawn, with_plans
from .checks import check_apply_rope, check_attention
from .strategies import rope_case
from .strategies_attention import ATTENTION_CASES, attention_case
from .test_conformance_attention import features_of, flags_of

pytestmark = pytest.mark.conformance
KINDS = {"batch": "axes", "batch_positions": "positions"}


def _rope(c, backend, kind):
    variant = c.choice(sorted(refrope.VARIANTS), label="variant")
    layouts = [lay for lay in refrope.LAYOUTS if supports(backend, "apply_rope", layout=lay) is None]
    layout = c.choice(layouts, label="layout")
    x, positions, freqs, offset = rope_case(c, variant, offsets="rotary_offset" in backend.capabilities,
                                            flags=flags_of(backend), batch=kind)
    return x, positions, freqs, offset, layout


def _attention(c, backend, kind):
    cases = [case for case in ATTENTION_CASES if supports(backend, "attention", **features_of(case)) is None]
    return attention_case(c, c.choice(cases or ["rope"], label="case"), flags=flags_of(backend), batch=kind)


@pytest.mark.parametrize("flag", sorted(KINDS))
@with_plans(4)
@given(data=st.data())
def test_apply_rope_batch(backend, require, record, dtype, flag, data):
    """[K-BATCH-1] [K-APPLY-1] [K-SKIP-1] apply_rope with one or two batch axes (``batch``), or positions of their
    own per sequence (``batch_positions``), any variant and declared layout, is within the budget."""
    require("apply_rope", **{flag: True})
    x, positions, freqs, offset, layout = drawn(data, _rope, backend, KINDS[flag])
    record(check_apply_rope(backend, dtype, x, positions, freqs, layout=layout, rotary_offset=offset))


@pytest.mark.parametrize("flag", sorted(KINDS))
@with_plans(4)
@given(data=st.data())
def test_attention_batch(backend, require, record, dtype, flag, data):
    """[K-BATCH-1] [K-ATTN-1] [K-SKIP-1] attention with batch axes (``batch``), or positions and key masks of their
    own per sequence (``batch_positions``), under any configuration the backend declares, is within the budgets."""
    require("attention", **{flag: True})
    q, k, v, freqs, options = drawn(data, _attention, backend, KINDS[flag])
    record(check_attention(backend, dtype, q, k, v, freqs, **options))
