"""Conformance of the schemes: attention with biases, NoPE and chunk masks ([K-ATTN-1]), apply_xpos ([K-XPOS-1]) and
dual_chunk_attention ([K-DCA-1]) (docs/spec/conformance.md, docs/spec/schemes.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope.backends import feature_name

from .checks import check_attention
from .scheme_checks import check_apply_xpos, check_dual_chunk_attention
from .scheme_strategies import SCHEME_CASES, dual_chunk_cases, scheme_attention_cases, xpos_cases

pytestmark = pytest.mark.conformance


@pytest.mark.parametrize("case", SCHEME_CASES)
@given(data=st.data())
def test_attention_schemes(backend, require, record, dtype, case, data):
    """[K-ATTN-1] [BIAS-NUM-1] [N-ATTN-1] [N-ATTN-2] attention of the backend with every bias of the registry, ALiBi's
    per-head slopes on NoPE, a bias with a relative-position map or a query scale, NoPE with Llama 4's temperature
    and chunk masks is within the per-element and NMSE budgets."""
    q, k, v, freqs, options = data.draw(scheme_attention_cases(case), label="case")
    features = {"relpos": feature_name("relpos", options["relpos"]), "gqa": q.shape[-3] != k.shape[-3],
                "chunk_size": options.get("chunk_size") is not None}
    if freqs is not None:
        features["variant"] = freqs.variant
    for kind in ("query_scale", "bias"):
        if options[kind] is not None:
            features[kind] = feature_name(kind, options[kind])
    require("attention", **features)
    record(check_attention(backend, dtype, q, k, v, freqs, **options))


@pytest.mark.parametrize("role", ["q", "k"])
@pytest.mark.parametrize("layout", refrope.LAYOUTS)
@given(data=st.data())
def test_apply_xpos(backend, require, record, dtype, layout, role, data):
    """[K-XPOS-1] [K-INPUT-1] apply_xpos of the backend (both roles, every layout, positions around 0 up to 2^11) is
    within the xPos budget, pass-through coordinates exact, input untouched."""
    require("apply_xpos", layout=layout)
    x, positions, freqs, base, gamma = data.draw(xpos_cases(), label="case")
    record(check_apply_xpos(backend, dtype, x, positions, freqs, role=role, scale_base=base, gamma=gamma,
                            layout=layout))


@pytest.mark.parametrize("layout", refrope.LAYOUTS)
@given(data=st.data())
def test_dual_chunk_attention(backend, require, record, dtype, layout, data):
    """[K-DCA-1] [N-ATTN-1] [N-ATTN-2] dual_chunk_attention of the backend (up to three chunks, local sizes 0 to 3,
    GQA, pass-through coordinates) is within the per-element and NMSE budgets."""
    q, k, v, freqs, chunk, local, scale = data.draw(dual_chunk_cases(), label="case")
    require("dual_chunk_attention", layout=layout, gqa=q.shape[-3] != k.shape[-3])
    record(check_dual_chunk_attention(backend, dtype, q, k, v, freqs, chunk_size=chunk, local_size=local,
                                      layout=layout, scale=scale))
