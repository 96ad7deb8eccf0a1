"""Conformance of attention: [K-ATTN-1] per element within [N-ATTN-1] and in NMSE within [N-ATTN-2]."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refrope import query_scale as qs
from refrope import relpos as rp
from refrope.backends import FLAGS

from ..branches import drawn, with_plans
from .checks import check_attention
from .strategies_attention import ATTENTION_CASES, ATTENTION_PLANS, attention_case

pytestmark = pytest.mark.conformance
_FLAGS = {"deepseek_mscale": "mscale_all_dim", "gqa": "gqa"}
_VARIANTS = {"deepseek_mscale": "yarn", "dynamic_ntk": "dynamic_ntk"}
GENERATED = max(10, settings.default.max_examples // 2)
"""Examples hypothesis draws per attention test: half the profile's, beside the explicit plans (an attention example
costs about ten apply_rope examples)."""


def flags_of(backend) -> frozenset:
    """The flags of :data:`refrope.backends.FLAGS` the backend declares (the strategies draw only those)."""
    return frozenset(flag for flag in FLAGS if flag in backend.capabilities)


def features_of(case: str) -> dict:
    """What the backend must declare for ``case`` (its map, scale, frequency variant or flag)."""
    features = {"variant": _VARIANTS.get(case, "default")}
    if case in rp.MAPS:
        features["relpos"] = case
    if case in qs.SCALES:
        features["query_scale"] = case
    if case in _FLAGS:
        features[_FLAGS[case]] = True
    return features


@pytest.mark.parametrize("case", ATTENTION_CASES)
@with_plans(ATTENTION_PLANS)
@settings(max_examples=GENERATED)
@given(data=st.data())
def test_attention(backend, require, record, dtype, case, data):
    """[K-ATTN-1] [K-BRANCH-1] [N-ATTN-1] [N-ATTN-2] attention of the backend (relative-position maps causal or not,
    query scales, DeepSeek's softmax factor, dynamic NTK, GQA groups, masks; every layout, scale given or not, batch
    axes and per-batch positions as declared, large logits) is within the per-element and NMSE budgets."""
    require("attention", **features_of(case))
    q, k, v, freqs, options = drawn(data, attention_case, case, flags=flags_of(backend))
    record(check_attention(backend, dtype, q, k, v, freqs, **options))
