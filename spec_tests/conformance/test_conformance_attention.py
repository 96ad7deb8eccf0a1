"""Conformance of attention: [K-ATTN-1] per element within [N-ATTN-1] and in NMSE within [N-ATTN-2]."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refrope.backends import feature_name

from .checks import check_attention
from .strategies import ATTENTION_CASES, attention_cases

pytestmark = pytest.mark.conformance
_FLAGS = {"deepseek_mscale": "mscale_all_dim", "gqa": "gqa"}


@pytest.mark.parametrize("case", ATTENTION_CASES)
@given(data=st.data())
def test_attention(backend, require, record, dtype, case, data):
    """[K-ATTN-1] [N-ATTN-1] [N-ATTN-2] attention of the backend (relative-position maps, query scales,
    DeepSeek's softmax factor, dynamic NTK, GQA, masks) is within the per-element and NMSE budgets."""
    q, k, v, freqs, options = data.draw(attention_cases(case), label="case")
    features = {"relpos": feature_name("relpos", options["relpos"]), "variant": freqs.variant}
    if options["query_scale"] is not None:
        features["query_scale"] = feature_name("query_scale", options["query_scale"])
    if case in _FLAGS:
        features[_FLAGS[case]] = True
    require("attention", **features)
    record(check_attention(backend, dtype, q, k, v, freqs, **options))
