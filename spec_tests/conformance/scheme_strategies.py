"""Conformance inputs for the schemes of docs/spec/schemes.md: attention with biases, NoPE and chunk masks,
xPos, dual-chunk attention. Tiny arrays, first positions up to 2^12 (0 favoured); every array is drawn in float64
and rounded to the dtype under test by the check."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope
from refrope import bias as bs
from refrope import query_scale as qs
from refrope import relpos as rp

from ..strategies import HypothesisChooser
from .strategies import thetas

SCHEME_CASES = (*bs.BIASES, "alibi_slopes", "bias_with_map", "bias_with_query_scale", "nope", "chunk")
"""The attention configurations of the schemes: every bias of the registry, ALiBi with the paper's per-head slopes
(12 heads favoured) on NoPE, a bias with a ReRoPE-family map, a bias with a query scale, NoPE with Llama 4's
temperature, and chunk masks."""

_unit = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False).map(lambda v: 0.0 if abs(v) < 1e-30 else v)


def _registry(draw, table, name, reach):
    return table[name].draw(HypothesisChooser(draw), reach)


def _arrays(draw, heads_q, heads_kv, n_q, n_k, head):
    q = draw(hnp.arrays(np.float64, (heads_q, n_q, head), elements=_unit), label="q")
    k = draw(hnp.arrays(np.float64, (heads_kv, n_k, head), elements=_unit), label="k")
    v = draw(hnp.arrays(np.float64, (heads_kv, n_k, draw(st.integers(1, 3), label="dv")), elements=_unit), label="v")
    return q, k, v


@st.composite
def scheme_attention_cases(draw, case: str):
    """``(q, k, v, freqs, options)`` for attention under one configuration of :data:`SCHEME_CASES`."""
    d = 2 * draw(st.integers(1, 4), label="pairs")
    head = d + draw(st.integers(0, 2), label="pass_through")
    heads_kv = draw(st.integers(1, 2), label="heads_kv")
    heads_q = heads_kv
    if case == "alibi_slopes":
        heads_kv = 1
        heads_q = draw(st.sampled_from([12]) | st.integers(1, 16), label="heads")
    n_k = draw(st.integers(2, 8 if case == "chunk" else 6), label="n_k")
    n_q = draw(st.integers(1, n_k), label="n_q")
    p0 = draw(st.sampled_from([0]) | st.integers(0, 2**12), label="first_position")
    q, k, v = _arrays(draw, heads_q, heads_kv, n_q, n_k, head)
    pk = p0 + np.arange(n_k)
    options = {"positions_q": pk[n_k - n_q:], "positions_k": pk, "relpos": "rope", "query_scale": None,
               "causal": True, "bias": None}
    freqs = refrope.inv_freq("default", d, theta=draw(thetas, label="theta"))
    if case in bs.BIASES:
        options["bias"] = _registry(draw, bs.BIASES, case, 64)
    elif case == "alibi_slopes":
        options.update(relpos="none", bias=bs.alibi(bs.alibi_slopes(heads_q)))
        freqs = draw(st.sampled_from([None, freqs]), label="freqs")
    elif case == "bias_with_map":
        name = draw(st.sampled_from(["rerope", "leaky_rerope", "linear"]), label="map")
        options.update(relpos=_registry(draw, rp.MAPS, name, 4),
                       bias=_registry(draw, bs.BIASES, draw(st.sampled_from(sorted(bs.BIASES)), label="bias"), 64))
    elif case == "bias_with_query_scale":
        options.update(query_scale=_registry(draw, qs.SCALES, "logn", 64), bias=_registry(draw, bs.BIASES, "alibi", 64))
    elif case == "nope":
        options.update(relpos="none", query_scale=_registry(draw, qs.SCALES, "llama4_temperature", 64))
        freqs = draw(st.sampled_from([None, freqs]), label="freqs")
    elif case == "chunk":
        options["chunk_size"] = draw(st.integers(1, 4), label="chunk_size")
    return q, k, v, freqs, options


@st.composite
def xpos_cases(draw):
    """``(x, positions, freqs, scale_base, gamma)`` for apply_xpos: positions up to 2^12 around 0 (the scale stays
    within float16 for B = 512)."""
    d = 2 * draw(st.sampled_from([32, 64]) | st.integers(1, 8), label="pairs")
    seq = draw(st.integers(1, 4), label="seq")
    extra = draw(st.integers(0, 2), label="pass_through")
    x = draw(hnp.arrays(np.float64, (seq, d + extra), elements=_unit), label="x")
    positions = draw(hnp.arrays(np.int64, seq, elements=st.sampled_from([0, 1, 2048]) | st.integers(-2**11, 2**11)),
                     label="positions")
    freqs = refrope.inv_freq("default", d, theta=draw(thetas, label="theta"))
    return x, positions, freqs, draw(st.sampled_from([512.0, 2048.0]), label="scale_base"), \
        draw(st.sampled_from([0.4, 1.0]), label="gamma")


@st.composite
def dual_chunk_cases(draw):
    """``(q, k, v, freqs, chunk_size, local_size, scale)``: n_k up to three chunks, so that the intra, successive
    and inter parts are all reached, GQA, pass-through coordinates."""
    local = draw(st.integers(0, 3), label="local_size")
    chunk = draw(st.integers(2 * local + 1, 2 * local + 5), label="chunk_size")
    n_k = draw(st.integers(1, 3 * (chunk - local) + 2), label="n_k")
    n_q = draw(st.integers(1, n_k), label="n_q")
    d = 2 * draw(st.integers(1, 4), label="pairs")
    heads_kv = draw(st.integers(1, 2), label="heads_kv")
    q, k, v = _arrays(draw, heads_kv * draw(st.integers(1, 2), label="group"), heads_kv, n_q, n_k,
                      d + draw(st.integers(0, 2), label="pass_through"))
    freqs = refrope.inv_freq("default", d, theta=draw(st.sampled_from([10.0, 100.0]) | thetas, label="theta"))
    return q, k, v, freqs, chunk, local, draw(st.none() | st.floats(0.1, 1.0), label="scale")
