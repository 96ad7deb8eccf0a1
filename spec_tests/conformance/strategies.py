"""Conformance inputs: tiny arrays, long-context positions (up to 2^20), theta up to 1e6, odd head sizes.

Variant parameters come from :func:`spec_tests.strategies.variant_params` (always valid). Every
array is drawn in float64; the check rounds it to the dtype under test through the backend.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope
from refrope import query_scale as qs
from refrope import relpos as rp

from ..strategies import HypothesisChooser, small_floats, variant_params

MAX_POSITION = 2**20
pair_counts = st.sampled_from([1, 32, 40, 48]) | st.integers(1, 12)   # rotary dims 2, 64, 80, 96, ...
thetas = st.sampled_from([10_000.0, 150_000.0, 500_000.0, 1_000_000.0]) | st.floats(2.0, 1e6)
long_positions = st.sampled_from([0, 1, 2**11, 2**16, MAX_POSITION - 1]) | st.integers(0, MAX_POSITION)


@st.composite
def rope_cases(draw, variant: str, *, offsets: bool):
    """``(x, positions, freqs, rotary_offset)`` for apply_rope; ``offsets`` allows rotary_offset > 0."""
    d = 2 * draw(pair_counts, label="pairs")
    extra = draw(st.integers(0, 3), label="pass_through")
    offset = draw(st.integers(0, extra), label="rotary_offset") if offsets else 0
    theta = draw(thetas, label="theta")
    freqs = refrope.inv_freq(variant, d, theta=theta, **draw(variant_params(variant, d), label="params"))
    seq = draw(st.integers(1, 4), label="seq")
    positions = draw(hnp.arrays(np.int64, seq, elements=long_positions), label="positions")
    x = draw(hnp.arrays(np.float64, (seq, d + extra), elements=small_floats), label="x")
    return x, positions, freqs, offset


@st.composite
def freq_cases(draw, variant: str, *, pairs=None):
    """``(rotary_dim, theta, params)`` for inv_freq (rotary dims from 4 unless ``pairs`` says otherwise);
    ``seq_len`` at L - 1, L, L + 1 favoured (LongRoPE's switch at L: huggingface/transformers#33129,
    unslothai/unsloth#10681)."""
    d = 2 * draw(pair_counts.filter(lambda n: n > 1) if pairs is None else pairs, label="pairs")
    params = draw(variant_params(variant, d), label="params")
    if "seq_len" in params and draw(st.booleans(), label="at_boundary"):
        length = params["original_max_position_embeddings"]
        params["seq_len"] = int(length) + draw(st.sampled_from([-1, 0, 1]), label="offset")
    return d, draw(thetas, label="theta"), params


ATTENTION_CASES = (*rp.MAPS, *qs.SCALES, "deepseek_mscale", "dynamic_ntk", "gqa", "sliding_window", "key_mask")
"""The attention configurations each dtype is checked under (one parametrized test each): every relative-position
map and query scale of the registries, then magnitudes, GQA and masks."""

_unit = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False).map(lambda v: 0.0 if abs(v) < 1e-30 else v)


def _relpos(draw, case):
    if case in rp.MAPS:
        return rp.MAPS[case].draw(HypothesisChooser(draw), 4)
    return "rope"


def _query_scale(draw, case):
    if case in qs.SCALES:
        return qs.SCALES[case].draw(HypothesisChooser(draw), 64)
    return None


def _freqs(draw, case, d, n_k, p0):
    theta = draw(thetas, label="theta")
    if case == "deepseek_mscale":
        m = draw(st.sampled_from([1.0, 0.707]) | st.floats(0.5, 1.5), label="mscale")
        return refrope.inv_freq("yarn", d, theta=max(theta, 2.0), factor=draw(st.floats(4.0, 40.0), label="factor"),
                                original_max_position_embeddings=4096, mscale=m, mscale_all_dim=m)
    if case == "dynamic_ntk":
        return refrope.inv_freq("dynamic_ntk", d, theta=theta, factor=draw(st.floats(2.0, 16.0), label="factor"),
                                original_max_position_embeddings=2, seq_len=p0 + n_k)
    return refrope.inv_freq("default", d, theta=theta)


@st.composite
def attention_cases(draw, case: str):
    """``(q, k, v, freqs, options)`` for attention under one configuration of :data:`ATTENTION_CASES`."""
    d = 2 * draw(st.integers(1, 4), label="pairs")
    head = d + draw(st.integers(0, 2), label="pass_through")
    heads_kv = draw(st.integers(1, 2), label="heads_kv")
    heads_q = heads_kv * (2 if case == "gqa" else 1)
    n_k = draw(st.integers(2, 6), label="n_k")
    n_q = draw(st.integers(1, n_k), label="n_q")
    p0 = draw(st.sampled_from([0]) | st.integers(0, 2**12), label="first_position")
    q = draw(hnp.arrays(np.float64, (heads_q, n_q, head), elements=_unit), label="q")
    k = draw(hnp.arrays(np.float64, (heads_kv, n_k, head), elements=_unit), label="k")
    v = draw(hnp.arrays(np.float64, (heads_kv, n_k, draw(st.integers(1, 3))), elements=_unit), label="v")
    pk = p0 + np.arange(n_k)
    options = {"positions_q": pk[n_k - n_q:], "positions_k": pk, "relpos": _relpos(draw, case),
               "query_scale": _query_scale(draw, case), "causal": True}
    if case == "deepseek_mscale":
        options["mscale_all_dim"] = draw(st.sampled_from([1.0, 0.707]) | st.floats(0.5, 1.5), label="mscale_all_dim")
    if case == "sliding_window":
        options.update(causal=draw(st.booleans(), label="causal"), sliding_window=draw(st.integers(1, 3)))
    if case == "key_mask":
        options["key_mask"] = draw(hnp.arrays(np.bool_, n_k), label="key_mask")
    return q, k, v, _freqs(draw, case, d, n_k, p0), options
