"""[D-ATTN-1] to [D-ATTN-6]: the gradient (VJP) of RoPE attention (docs/spec/gradients.md).

Expected values come from central finite differences of ``refrope.attention``, which shares no code with
refrope.gradients; spec_tests/test_gradients_torch.py compares with torch autograd.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import refrope
import refrope._attention.backward as grad_impl
from spec_tests.bounds import EPS
from spec_tests.grad_references import RELPOS, _fd_grad, _problem
from spec_tests.strategies import LAYOUTS


def _attention_fd(dout, q, k, v, freqs, h=1e-5, **kw):
    """Central differences of F = sum(dout * refrope.attention(q, k, v, freqs, **kw)) in q, k and v."""
    F = lambda q_, k_, v_: np.sum(dout * refrope.attention(q_, k_, v_, freqs, **kw))  # noqa: E731
    return (_fd_grad(lambda x: F(x, k, v), q, h), _fd_grad(lambda x: F(q, x, v), k, h),
            _fd_grad(lambda x: F(q, k, x), v, h))


def _assert_fd_close(got, fd):
    """Central differences with h = 1e-5 on O(1) inputs: truncation h^2/6 |F'''| ~ 1e-11 plus rounding
    eps |F| / h ~ 1e-11; 1e-7 relative to the largest gradient entry leaves a wide margin, while any
    derivation error (a missing term, a sign, a transpose) is of order 1."""
    for name, a, b in zip(("grad_q", "grad_k", "grad_v"), got, fd):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7 * max(1.0, np.abs(b).max()), err_msg=name)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("relpos", sorted(RELPOS))
def test_attention_vjp_matches_central_differences(relpos, causal, layout):
    """[D-ATTN-1] attention_vjp equals central differences of refrope.attention for every relpos, both causal modes."""
    rng = np.random.default_rng(sorted(RELPOS).index(relpos) * 6 + causal * 3 + LAYOUTS.index(layout))
    q, k, v, dout = _problem(rng, heads_q=2, heads_kv=1, n_q=3, n_k=5)
    f = refrope.Frequencies([1.0, 0.05])
    kw = dict(positions_q=np.array([6.0, 9.0, 13.0]), positions_k=np.array([0.0, 4.0, 6.0, 9.0, 13.0]),
              relpos=RELPOS[relpos][0](), layout=layout, causal=causal)
    _assert_fd_close(refrope.attention_vjp(dout, q, k, v, f, **kw), _attention_fd(dout, q, k, v, f, **kw))


def _assert_directional(dout, q, k, v, freqs, grads, rng, h=1e-5, directions=3, **kw):
    """Directional central differences: (F(x + h u) - F(x - h u)) / 2h == <grad_x, u> for random unit-scale u
    (3 per argument; a wrong gradient entry of size e shows up as ~e |u_entry|). Same error budget as
    _assert_fd_close, relative to |grad|_1 max|u|."""
    F = lambda q_, k_, v_: np.sum(dout * refrope.attention(q_, k_, v_, freqs, **kw))  # noqa: E731
    args = [q, k, v]
    for index, (name, grad) in enumerate(zip(("grad_q", "grad_k", "grad_v"), grads)):
        for _ in range(directions):
            u = rng.standard_normal(grad.shape)
            up, down = list(args), list(args)
            up[index], down[index] = args[index] + h * u, args[index] - h * u
            fd = (F(*up) - F(*down)) / (2 * h)
            assert abs(fd - np.sum(grad * u)) <= 1e-7 * max(1.0, np.abs(grad).sum() * np.abs(u).max()), name


_FEATURES = {
    "logn": dict(query_scale=lambda: refrope.query_scale.logn(4)),
    "logn_clipped": dict(query_scale=lambda: refrope.query_scale.logn_clipped(8)),
    "llama4_temperature": dict(query_scale=lambda: refrope.query_scale.llama4_temperature(2, 0.5)),
    "sliding_window": dict(sliding_window=lambda: 3),
    "key_mask": dict(key_mask=lambda: np.array([True, False, True, True, False, True])),
    "key_mask per batch": dict(key_mask=lambda: np.array([[True] * 6, [False, True, True, False, True, True]])),
    "all-masked row": dict(key_mask=lambda: np.array([False, False, False, False, True, True])),
    "scale": dict(scale=lambda: 0.7),
    "rotary_offset": dict(rotary_offset=lambda: 2),  # [pass | rot]: d = 4 + 2, the rotary slice last
    "mscale_all_dim": dict(mscale_all_dim=lambda: 1.0),
    "window+mask+logn": dict(sliding_window=lambda: 4, key_mask=lambda: np.array([False, True, True, True, True, True]),
                             query_scale=lambda: refrope.query_scale.logn_clipped(3)),
}


@pytest.mark.parametrize("feature", sorted(_FEATURES))
@pytest.mark.parametrize("relpos", ["rope", "leaky_rerope"])
def test_attention_vjp_features_match_central_differences(feature, relpos):
    """[D-ATTN-1] [D-ATTN-3] [D-ATTN-4] Query scales, masks, softmax factor, YaRN magnitude, GQA, batch, partial
    rotary: directional central differences of refrope.attention."""
    rng = np.random.default_rng(sorted(_FEATURES).index(feature))
    q, k, v, dout = _problem(rng, batch=(2,), heads_q=4, heads_kv=2, n_q=3, n_k=6, d_rot=4, extra=2, d_v=3)
    f = refrope.inv_freq("yarn", 4, factor=16.0, original_max_position_embeddings=8)  # m = 0.1 ln 16 + 1
    kw = {name: make() for name, make in _FEATURES[feature].items()}
    kw.update(relpos=RELPOS[relpos][0](), layout="half")
    grads = refrope.attention_vjp(dout, q, k, v, f, **kw)
    _assert_directional(dout, q, k, v, f, grads, rng, **kw)


def test_attention_vjp_all_masked_row_gets_zero_gradient():
    """[D-ATTN-4] A query with no visible key has a zero output row (refrope.attention) and a zero gradient row,
    and contributes nothing to grad_k, grad_v (its dout row may be anything)."""
    rng = np.random.default_rng(11)
    q, k, v, dout = _problem(rng, heads_q=2, heads_kv=1, n_q=3, n_k=6)
    f = refrope.inv_freq("default", 4)
    kw = dict(key_mask=np.array([False, False, False, False, True, True]), relpos=refrope.relpos.rerope(2))
    assert np.all(refrope.attention(q, k, v, f, **kw)[..., 0, :] == 0)  # query at 3 sees keys 0..3: all masked
    dq, dk, dv = refrope.attention_vjp(dout, q, k, v, f, **kw)
    assert np.all(dq[..., 0, :] == 0)
    dout2 = dout.copy()
    dout2[..., 0, :] = 1e3
    again = refrope.attention_vjp(dout2, q, k, v, f, **kw)
    for a, b in zip((dq, dk, dv), again):
        assert np.array_equal(a, b)




@pytest.mark.parametrize("relpos", ["rope", "rerope"])
def test_attention_vjp_gqa_sums_over_the_group(relpos):
    """[D-ATTN-3] With GQA, grad_q equals the MHA gradient with repeated k, v; grad_k, grad_v sum it over the group."""
    rng = np.random.default_rng(3)
    q, k, v, dout = _problem(rng, batch=(2,), heads_q=6, heads_kv=2, n_q=3, n_k=5, d_rot=4, extra=1, d_v=2)
    f = refrope.inv_freq("default", 4)
    kw = dict(relpos=RELPOS[relpos][0](), layout="interleaved")
    dq, dk, dv = refrope.attention_vjp(dout, q, k, v, f, **kw)
    # query head h reads key head h // 3: repeat each key head 3 times (torch repeat_kv / np.repeat)
    mq, mk, mv = refrope.attention_vjp(dout, q, np.repeat(k, 3, axis=-3), np.repeat(v, 3, axis=-3), f, **kw)
    size = 8 * EPS * (1 + np.abs(mk).max() + np.abs(mv).max() + np.abs(mq).max()) * 3
    np.testing.assert_allclose(dq, mq, rtol=0, atol=size)
    np.testing.assert_allclose(dk, mk.reshape(2, 2, 3, 5, 5).sum(axis=2), rtol=0, atol=size)
    np.testing.assert_allclose(dv, mv.reshape(2, 2, 3, 5, 2).sum(axis=2), rtol=0, atol=size)


def test_attention_vjp_broadcast_batch_axes_sum_the_gradient():
    """[D-ATTN-3] [D-ATTN-1] k and v shared by every batch entry (batch axis of size 1) get the gradient summed over
    the batch, equal to directional central differences."""
    rng = np.random.default_rng(12)
    q, _, _, dout = _problem(rng, batch=(3,), heads_q=2, heads_kv=1, n_q=2, n_k=4)
    _, k, v, _ = _problem(rng, batch=(1,), heads_q=2, heads_kv=1, n_q=2, n_k=4)
    f = refrope.inv_freq("default", 4)
    kw = dict(relpos=refrope.relpos.rerope(1), positions_q=np.array([[2.0, 3.0], [1.0, 3.0], [0.0, 3.0]]))
    grads = refrope.attention_vjp(dout, q, k, v, f, **kw)
    assert [g.shape for g in grads] == [q.shape, k.shape, v.shape]
    per_entry = [refrope.attention_vjp(dout[b:b + 1], q[b:b + 1], k, v, f, relpos=kw["relpos"],
                                       positions_q=kw["positions_q"][b]) for b in range(3)]
    np.testing.assert_allclose(grads[1], sum(g[1] for g in per_entry), rtol=0, atol=64 * EPS * np.abs(grads[1]).max())
    np.testing.assert_allclose(grads[2], sum(g[2] for g in per_entry), rtol=0, atol=64 * EPS * np.abs(grads[2]).max())
    _assert_directional(dout, q, k, v, f, grads, rng, **kw)


def test_attention_vjp_masked_keys_get_zero_gradient():
    """[D-ATTN-4] A key no query may attend to (key_mask False, or outside every window) has grad_k = grad_v = 0
    exactly, and changing it changes nothing."""
    rng = np.random.default_rng(4)
    q, k, v, dout = _problem(rng, heads_q=2, heads_kv=2, n_q=3, n_k=6)
    f = refrope.inv_freq("default", 4)
    kw = dict(key_mask=np.array([True, True, False, True, True, True]), sliding_window=4,
              relpos=refrope.relpos.leaky_rerope(2, 8.0))
    dq, dk, dv = refrope.attention_vjp(dout, q, k, v, f, **kw)
    # queries sit at 3, 4, 5 (the default positions); window 4 lets query 3 see keys 0..3, so key 0 is live
    assert np.all(dk[..., 2, :] == 0) and np.all(dv[..., 2, :] == 0)
    assert np.any(dk[..., 0, :] != 0)
    k2, v2 = k.copy(), v.copy()
    k2[..., 2, :], v2[..., 2, :] = 100.0, -100.0
    again = refrope.attention_vjp(dout, q, k2, v2, f, **kw)
    for a, b in zip((dq, dk, dv), again):
        assert np.array_equal(a, b)


def test_attention_vjp_block_size_does_not_change_the_result(monkeypatch):
    """[D-ATTN-5] One query row per block and a single block give the same gradients (to summation rounding)."""
    rng = np.random.default_rng(5)
    q, k, v, dout = _problem(rng, batch=(2,), heads_q=4, heads_kv=2, n_q=7, n_k=9, d_rot=4, extra=1, d_v=3)
    f = refrope.inv_freq("yarn", 4, factor=4.0, original_max_position_embeddings=4)
    kw = dict(relpos=refrope.relpos.rerope(3), query_scale=refrope.query_scale.logn_clipped(4))
    whole = refrope.attention_vjp(dout, q, k, v, f, **kw)
    monkeypatch.setattr(grad_impl, "_BLOCK_ELEMENTS", 1)
    rows = refrope.attention_vjp(dout, q, k, v, f, **kw)
    for a, b in zip(whole, rows):
        np.testing.assert_allclose(a, b, rtol=0, atol=16 * 7 * EPS * np.abs(a).max())


def _peak_bytes(n):
    """Peak traced allocation of attention_vjp for one head, n_q = n_k = n, rotary_dim 2, d_v 1."""
    q, k, v, dout = _problem(np.random.default_rng(6), batch=(), heads_q=1, heads_kv=1, n_q=n, n_k=n, d_rot=2,
                             extra=0, d_v=1)
    tracemalloc.start()
    try:
        refrope.attention_vjp(dout, q, k, v, [0.5])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_attention_vjp_memory_does_not_grow_as_nq_times_nk():
    """[D-ATTN-5] From n = 512 to 2048 (16x the n_q x n_k matrix) the peak allocation grows by under 25%, and at
    2048 it stays below half of one n_q x n_k float64 matrix (32 MiB)."""
    small, large = _peak_bytes(512), _peak_bytes(2048)
    assert large < 1.25 * small, f"peak {small / 2**20:.1f} MiB at 512, {large / 2**20:.1f} MiB at 2048"
    assert large < 2048 * 2048 * 8 / 2, f"peak {large / 2**20:.1f} MiB"


def test_attention_vjp_float64_shapes_and_inputs_untouched():
    """[D-ATTN-6] Gradients are float64 with the shapes of q, k, v; no input is modified."""
    rng = np.random.default_rng(8)
    q, k, v, dout = _problem(rng, heads_q=2, heads_kv=1, n_q=2, n_k=3)
    q, k = q.astype(np.float32), k.astype(np.float32)
    pq, pk, mask = np.array([1.0, 2.0]), np.array([0.0, 1.0, 2.0]), np.array([True, False, True])
    before = [x.copy() for x in (dout, q, k, v, pq, pk, mask)]
    grads = refrope.attention_vjp(dout, q, k, v, [1.0, 0.1], positions_q=pq, positions_k=pk, key_mask=mask)
    for x, x0 in zip((dout, q, k, v, pq, pk, mask), before):
        assert np.array_equal(x, x0) and x.dtype == x0.dtype
    for g, x in zip(grads, (q, k, v)):
        assert g.dtype == np.float64 and g.shape == x.shape


@pytest.mark.parametrize("change, exc, words", [
    (dict(dout=np.ones((1, 2, 3, 2))), ValueError, "grad_out must"),
    (dict(dout=np.ones((1, 2, 2, 3))), ValueError, "grad_out must"),
    (dict(dout=np.ones((1, 2, 2, 2), dtype=complex)), TypeError, "grad_out must"),
    (dict(v=np.ones((1, 1, 4, 2))), ValueError, "v must"),
    (dict(k=np.ones((1, 3, 3, 5)), v=np.ones((1, 3, 3, 2))), ValueError, "heads_q"),
    (dict(q=np.ones((2, 5))), ValueError, "q must"),
])
def test_attention_vjp_rejects_bad_input(change, exc, words):
    """[D-ATTN-6] A grad_out that is not the output's shape, or inconsistent q, k, v, raise naming the parameter."""
    args = dict(zip(("q", "k", "v", "dout"), _problem(np.random.default_rng(9), heads_q=2, heads_kv=1, n_q=2, n_k=3)))
    args.update(change)
    with pytest.raises(exc, match=words):
        refrope.attention_vjp(args["dout"], args["q"], args["k"], args["v"], [1.0, 0.1])


