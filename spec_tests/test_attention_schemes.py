"""[A-BIAS-1] [A-MASK-5] [A-NOPE-1]: attention with a bias, a chunk mask and without position encoding.

The definition is spec_tests.attn_strategies.expected (pair by pair, with the biases written from the papers in
spec_tests.scheme_strategies); gradients are checked against central differences of refrope.attention.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import refrope
from refrope import bias as bs
from refrope import relpos as rp
from refrope._attention import blocks, masks
from refrope._attention.keywords import KEYWORDS
from refrope._attention.setup import setup
from spec_tests.attn_strategies import METHODS, assert_close, attention_cases, bounds, expected
from spec_tests.grad_references import _fd_grad, _problem


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_biases_and_chunks_match_the_definition(method, data):
    """[A-BIAS-1] [A-MASK-5] [A-NOPE-1] [A-SCORE-1] Scores, weights and output of every method with a bias (any of the
    registry, or per head) and a chunk size equal the definition pair by pair, over every map (NoPE included),
    layout, mask, query scale and GQA, within [A-NUM-1]."""
    case = data.draw(attention_cases(schemes=True), label="case")
    want_s, want_p, want_o = expected(case)
    tol = bounds(case)
    assert_close(case.call(refrope.attention_scores, method=method), want_s, tol.logits, "scores")
    assert_close(case.call(refrope.attention_probs, method=method), want_p, tol.probs, "probs")
    assert_close(case.call(method=method), want_o, tol.output, "output")


@given(data=st.data())
def test_methods_agree_with_biases_and_chunks_at_every_block_size(data):
    """[A-MASK-5] [A-BIAS-1] [A-METHOD-1] [A-CHUNK-1] direct == two_pass == decode == auto at block sizes 1 to 4,
    with chunks and biases: tile skipping and merging stay exact."""
    case = data.draw(attention_cases(schemes=True, max_n=9, explicit_positions=True), label="case")
    tol = bounds(case)
    reference = case.call(method="direct")
    for method in ("auto", "two_pass", "decode"):
        for block in (1, 2, 3, 4, None):
            assert_close(case.call(method=method, block_size=block), reference, tol.output, f"{method} {block}")


@given(data=st.data(), block=st.integers(1, 5))
def test_auto_computes_every_visible_tile_and_skips_other_chunks(data, block):
    """[A-MASK-5] [A-METHOD-1] [A-COST-1] With a chunk mask, "auto" computes every tile that has a visible pair,
    skips every tile whose queries and keys share no chunk, and marks a span fully visible only when every pair in
    it is visible."""
    case = data.draw(attention_cases(schemes=True, max_n=12, explicit_positions=True), label="case")
    case = case.with_kwargs(chunk_size=data.draw(st.integers(1, 6), label="chunk"), block_size=block)
    kw = {key: case.kwargs.get(key, kw.default) for key, kw in ((k.name, k) for k in KEYWORDS)}
    problem = setup(case.q, case.k, case.v, case.freqs, kw)
    for _, head in problem.heads():
        tiles = blocks._Tiles(head, problem.options)
        visible = np.isfinite(masks.mask_logits(np.zeros((len(head.pq), len(head.pk))), head.pq, head.pk,
                                                head.key_mask, problem.options))
        for i, rows in enumerate(tiles.rows):
            covered = np.zeros(len(head.pk), dtype=bool)
            for span in tiles.spans(i):
                covered[span.cols] = True
                if span.state == masks.ALL:
                    assert visible[rows, span.cols].all()
            for cols in tiles.cols:
                if visible[rows, cols].any():
                    assert covered[cols].all()
                shared = np.intersect1d(np.floor(head.pq[rows] / problem.options.chunk),
                                        np.floor(head.pk[cols] / problem.options.chunk))
                if not shared.size:
                    assert not covered[cols].any()


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_the_bias_is_added_after_every_factor_on_the_raw_distance(method, data):
    """[A-BIAS-1] scores(bias) - scores(no bias) = b(p_i - p_j)[h] on visible pairs, with the query scale, the
    DeepSeek factor and any map present: not multiplied by them, and on p_i - p_j, not f(p_i - p_j)."""
    case = data.draw(attention_cases(schemes=True, masks=False, explicit_positions=True), label="case")
    b = case.kwargs["bias"]
    assume(b is not None)
    with_bias = case.call(refrope.attention_scores, method=method)
    without = case.call(refrope.attention_scores, method=method, bias=None)
    pq, pk = case.positions()
    heads = case.q.shape[-3]
    raw = np.broadcast_to(b(pq[..., :, None] - pk[..., None, :]), case.q.shape[:-3] + (heads, len(pq), len(pk)))
    finite = np.isfinite(without)
    assert np.array_equal(finite, np.isfinite(with_bias))
    tol = bounds(case).logits
    assert np.all(np.abs(with_bias[finite] - without[finite] - raw[finite]) <= 2 * tol)


def test_the_bias_is_not_scaled_by_the_query_scale_by_hand():
    """[A-BIAS-1] q = k = 0: every logit is the bias alone, whatever the scale and query scale."""
    q, k = np.zeros((1, 3, 2)), np.zeros((1, 3, 2))
    s = refrope.attention_scores(q, k, [1.0], bias=bs.alibi(0.5), scale=7.0,
                                 query_scale=refrope.query_scale.logn(2), relpos=rp.rerope(1))
    assert np.array_equal(s[0], [[0.0, -np.inf, -np.inf], [-0.5, 0.0, -np.inf], [-1.0, -0.5, 0.0]])


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_chunks_equal_attention_over_the_keys_of_the_same_chunk(method, data):
    """[A-MASK-5] For one query, chunk_size=C equals attention over only the keys in its chunk
    (floor(p/C) by position, unsorted and real positions included), and C beyond every position changes nothing."""
    case = data.draw(attention_cases(explicit_positions=True, masks=False), label="case")
    chunk = data.draw(st.integers(1, 8), label="C")
    pq, pk = case.positions()
    same = np.floor(pq / chunk)[:, None] == np.floor(pk / chunk)[None, :]
    i = data.draw(st.integers(0, len(pq) - 1), label="query")
    probs = case.call(refrope.attention_probs, method=method, chunk_size=chunk)
    assert np.all(np.where(same, 0.0, probs) == 0)
    assume(same[i].any())
    one = case.with_kwargs(positions_q=pq[i:i + 1], chunk_size=chunk)
    one.q = case.q[..., i:i + 1, :]
    kept = case.with_kwargs(positions_q=pq[i:i + 1], positions_k=pk[same[i]])
    kept.q, kept.k, kept.v = case.q[..., i:i + 1, :], case.k[..., same[i], :], case.v[..., same[i], :]
    assert_close(one.call(method=method), kept.call(method=method), bounds(one).output + bounds(kept).output,
                 "chunk vs kept keys")
    huge = int(max(np.abs(pq).max(), np.abs(pk).max())) + 1
    if pq.min() >= 0 and pk.min() >= 0:
        assert np.array_equal(case.call(method=method, chunk_size=huge), case.call(method=method))


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_nope_ignores_frequencies_and_magnitude(method, data):
    """[A-NOPE-1] [L-MAP-7] relpos="none": freqs None or any frequencies (any magnitude) give the same result, bit for
    bit, equal to plain softmax(c q.k) attention; "none" and none() are the same map."""
    case = data.draw(attention_cases(relpos="none"), label="case")
    base = case.call(method=method)
    case.freqs = refrope.Frequencies(case.freqs.inv_freq, attention_factor=3.0)
    assert np.array_equal(case.call(method=method), base)
    assert np.array_equal(case.call(method=method, relpos="none"), base)
    assert np.array_equal(refrope.attention(case.q, case.k, case.v, None, method=method, **case.kwargs), base)
    case.freqs = refrope.Frequencies(case.freqs.inv_freq)  # magnitude 1: ReRoPE with w = 0 rotates by 0
    assert_close(case.call(method=method, relpos=rp.rerope(0)), base, 2 * bounds(case).output, "rerope(0)")


def test_nope_by_hand():
    """[A-NOPE-1] NoPE logits are scale * q.k, with no rotation whatever the positions."""
    q, k = np.array([[[1.0, 2.0]]]), np.array([[[3.0, -1.0], [0.5, 0.5]]])
    s = refrope.attention_scores(q, k, None, relpos="none", scale=1.0, positions_q=[100.0], positions_k=[3.0, 50.0])
    assert np.array_equal(s, [[[1.0, 1.5]]])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(bias="alibi"), TypeError, "bias must be None or a callable"),
    (dict(bias=bs.alibi([0.5, 0.25, 0.125])), ValueError, "bias has 3 per-head parameters but there are heads_q=2"),
    (dict(bias=lambda r: np.full(r.shape, np.nan)), ValueError, "bias\\(r\\) must be finite"),
    (dict(bias=lambda r: np.zeros((3,) + r.shape)), ValueError, "does not broadcast to \\(heads_q, 1, 1\\)"),
    (dict(bias=lambda r: r.astype(complex)), TypeError, "bias\\(r\\) must return real numbers"),
    (dict(chunk_size=0), ValueError, "chunk_size must be >= 1"),
    (dict(chunk_size=2.5), TypeError, "chunk_size must be an integer"),
    (dict(relpos="rope", freqs=None), TypeError, "freqs is None, which only relpos='none'"),
    (dict(relpos="nope"), ValueError, "relpos must be 'rope' or a map"),
])
def test_bad_bias_chunk_and_nope_arguments_raise(kwargs, error, match):
    """[A-BIAS-1] [A-MASK-5] [A-NOPE-1] [A-ERR-1] A non-callable or ill-shaped bias, non-finite bias values, a bad
    chunk_size and freqs=None with a rotary map raise, naming the argument."""
    kwargs = dict(kwargs)
    freqs = kwargs.pop("freqs", [1.0])
    with pytest.raises(error, match=match):
        refrope.attention(np.ones((2, 3, 2)), np.ones((1, 3, 2)), np.ones((1, 3, 1)), freqs, **kwargs)


_SCHEMES = {
    "alibi per head": dict(bias=lambda: bs.alibi(bs.alibi_slopes(2))),
    "sandwich": dict(bias=lambda: bs.sandwich(0.7, 4)),
    "kerple_log + chunk": dict(bias=lambda: bs.kerple_log(0.5, 2.0), chunk_size=lambda: 3),
    "kerple_power + window": dict(bias=lambda: bs.kerple_power(0.4, 1.5), sliding_window=lambda: 4),
    "chunk": dict(chunk_size=lambda: 2),
    "nope + alibi": dict(relpos=lambda: "none", bias=lambda: bs.alibi(0.3)),
    "nope + llama4 temperature": dict(relpos=lambda: "none",
                                      query_scale=lambda: refrope.query_scale.llama4_temperature(2, 0.5)),
}


@pytest.mark.parametrize("scheme", sorted(_SCHEMES))
@pytest.mark.parametrize("method", ["auto", "direct"])
def test_attention_vjp_with_biases_chunks_and_nope_matches_central_differences(scheme, method):
    """[D-ATTN-1] [A-BIAS-1] [A-MASK-5] [A-NOPE-1] attention_vjp with a bias, a chunk mask or NoPE equals central
    differences of refrope.attention in q, k and v (h = 1e-5; truncation and rounding ~1e-11, bound 1e-7)."""
    rng = np.random.default_rng(sorted(_SCHEMES).index(scheme))
    q, k, v, dout = _problem(rng, batch=(2,), heads_q=2, heads_kv=1, n_q=4, n_k=6, d_rot=4, extra=1, d_v=2)
    f = refrope.inv_freq("yarn", 4, factor=16.0, original_max_position_embeddings=8)
    kw = {name: make() for name, make in _SCHEMES[scheme].items()}
    kw.update(positions_q=np.array([2.0, 3.0, 4.0, 5.0]) + 7, positions_k=np.arange(6.0) + 7, method=method)
    got = refrope.attention_vjp(dout, q, k, v, f, **kw)
    F = lambda q_, k_, v_: np.sum(dout * refrope.attention(q_, k_, v_, f, **kw))  # noqa: E731
    fd = (_fd_grad(lambda x: F(x, k, v), q, 1e-5), _fd_grad(lambda x: F(q, x, v), k, 1e-5),
          _fd_grad(lambda x: F(q, k, x), v, 1e-5))
    for name, a, b in zip(("grad_q", "grad_k", "grad_v"), got, fd):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7 * max(1.0, np.abs(b).max()), err_msg=name)


@given(data=st.data())
def test_decoding_with_a_bias_and_chunks_equals_the_prefill_rows(data):
    """[A-BIAS-1] [A-MASK-5] [A-DECODE-2] decode_attention takes bias and chunk_size: token by token equals the rows
    of attention on the whole sequence."""
    case = data.draw(attention_cases(schemes=True, causal=True, explicit_positions=False, max_n=6), label="case")
    n = case.k.shape[-2]
    full = case.call(positions_q=np.arange(n - case.q.shape[-2], n))
    first = n - case.q.shape[-2]
    skip = ("positions_q", "positions_k", "block_size", "key_mask")
    kw = {key: value for key, value in case.kwargs.items() if key not in skip}
    assume(case.kwargs.get("key_mask") is None)
    for t in range(first, n):
        cache = refrope.KVCache(case.k[..., :t + 1, :], case.v[..., :t + 1, :], np.arange(t + 1))
        got = refrope.decode_attention(case.q[..., t - first:t - first + 1, :], cache, case.freqs, position=t, **kw)
        assert_close(got, full[..., t - first:t - first + 1, :], bounds(case).output, f"token {t}")
