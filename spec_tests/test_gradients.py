"""[D-ROPE-1] to [D-ATTN-6]: gradients (VJPs) of apply_rope and of RoPE attention (docs/spec/gradients.md).

Expected values come from three places that share no code with refrope.gradients:

* the explicit matrix ``refrope.rotation_matrix`` (for apply_rope, whose VJP is a matrix transpose);
* central finite differences of the forward functions themselves (``apply_rope``, ``refrope.attention``);
* torch autograd, in float64, of an attention forward written below from the score formula
  s_ij = c_i [q_pass . k_pass + m^2 q_rot . R(-f(p_i - p_j)) k_rot], c_i = scale * query_scale(p_i),
  with its own relative-position maps, masks and pair indices.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
import refrope._attention.backward as grad_impl
from spec_tests.bounds import EPS, angle_bound, max_angle
from spec_tests.strategies import LAYOUTS, frequencies, positions, vectors

# ----------------------------------------------------------------------------------------------
# Independent statements of the ingredients (not taken from refrope)


def _odd(fn):
    """Extend a map defined for r >= 0 to all r by oddness, f(r) = -f(-r)."""
    return lambda r: np.sign(r) * fn(np.abs(r))


RELPOS = {  # name -> (refrope's map, the same map written here from kexue.fm/archives/9708 and 9728)
    "rope": (lambda: "rope", lambda r: r),
    "linear": (lambda: refrope.relpos.linear(2.5), lambda r: r / 2.5),
    "rerope": (lambda: refrope.relpos.rerope(3), _odd(lambda a: np.minimum(a, 3.0))),
    "leaky_rerope": (lambda: refrope.relpos.leaky_rerope(3, 4.0),
                     _odd(lambda a: np.where(a < 3, a, 3 + (a - 3) / 4.0))),
    "inv_leaky_rerope": (lambda: refrope.relpos.inv_leaky_rerope(2, 0.5),
                         _odd(lambda a: np.where(a < 2, a, 2 + (a - 2) / 0.5))),
}


def _pair_index(d, layout):
    """First and second member of every pair. interleaved_to_half rotates GPT-J pairs and then applies the same
    permutation to q and k, which cancels in q.k: its scores are those of "interleaved"."""
    if layout == "half":
        return np.arange(d // 2), np.arange(d // 2) + d // 2
    return np.arange(0, d, 2), np.arange(1, d, 2)


def _fd_grad(fn, x, h):
    """Central differences (fn(x + h e) - fn(x - h e)) / 2h for every coordinate e of x."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (fn(up) - fn(down)) / (2 * h)
    return grad


# ----------------------------------------------------------------------------------------------
# apply_rope_vjp


@st.composite
def rope_vjp_cases(draw, arrays=1):
    """Frequencies, a rotary slice at an offset inside a longer head, long-context positions, and ``arrays``
    arrays of shape (seq, head_dim)."""
    f = draw(frequencies(), label="freqs")
    extra = draw(st.integers(0, 3), label="extra dims")
    offset = draw(st.integers(0, extra), label="rotary_offset")
    seq = draw(st.integers(1, 4), label="seq")
    pos = np.array(draw(st.lists(positions(), min_size=seq, max_size=seq), label="positions"))
    return f, offset, pos, [draw(vectors(f.rotary_dim + extra, rows=seq), label=f"array {i}") for i in range(arrays)]


@pytest.mark.parametrize("layout", LAYOUTS)
@given(case=rope_vjp_cases())
def test_rope_vjp_is_transpose_of_rotation_matrix(layout, case):
    """[D-ROPE-1] [D-ROPE-3] grad_x = m R(p)^T g on the slice (R from rotation_matrix), g elsewhere; a few ulps."""
    f, offset, pos, (g,) = case
    d = f.rotary_dim
    got = refrope.apply_rope_vjp(g, pos, f, layout=layout, rotary_offset=offset)
    want = g.copy()
    for row in range(len(pos)):
        r = refrope.rotation_matrix(pos[row], f, layout=layout)
        want[row, offset:offset + d] = f.attention_factor * (r.T @ g[row, offset:offset + d])
    # Same angle p*omega on both sides (cos(-x) = cos x, sin(-x) = -sin x exactly): only the products and one
    # addition per coordinate round, so the error is a few ulps of m * |pair|, independent of the angle.
    np.testing.assert_allclose(got, want, rtol=0, atol=4 * EPS * f.attention_factor * np.abs(g).max(initial=1.0))
    keep = np.r_[0:offset, offset + d:g.shape[-1]]
    assert np.array_equal(got[:, keep], g[:, keep])


@pytest.mark.parametrize("layout", LAYOUTS)
@given(case=rope_vjp_cases(arrays=2))
def test_rope_vjp_adjoint_identity(layout, case):
    """[D-ROPE-2] <y, apply_rope(x)> == <apply_rope_vjp(y), x> within the stated rounding bound."""
    f, offset, pos, (x, y) = case
    lhs = np.sum(y * refrope.apply_rope(x, pos, f, layout=layout, rotary_offset=offset))
    rhs = np.sum(refrope.apply_rope_vjp(y, pos, f, layout=layout, rotary_offset=offset) * x)
    # Each rotated coordinate is off by angle_bound (1 + |phi|) eps m |pair|; the two sums of seq * (d + extra)
    # products add at most one eps per term.
    terms = x.size
    size = (1 + f.attention_factor) * np.abs(x).max(initial=1.0) * np.abs(y).max(initial=1.0)
    bound = terms * (4 * angle_bound(max_angle(pos, f.inv_freq), size) + 2 * EPS * size)
    assert abs(lhs - rhs) <= bound, (lhs, rhs, bound)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("offset, head_dim", [(0, 4), (0, 7), (2, 8), (3, 7)])
def test_rope_vjp_matches_central_differences(layout, offset, head_dim):
    """[D-ROPE-1] Central differences of sum(g * apply_rope(x)), h = 1e-3 (exact for a linear map up to rounding)."""
    rng = np.random.default_rng(7)
    f = refrope.inv_freq("yarn", 4, factor=8.0, original_max_position_embeddings=32)  # magnitude m != 1
    x, g = rng.standard_normal((2, 3, head_dim)), rng.standard_normal((2, 3, head_dim))
    pos = np.array([[0, 17, 123456], [5, 900, 2**20]])
    got = refrope.apply_rope_vjp(g, pos, f, layout=layout, rotary_offset=offset)
    h = 1e-3
    fd = _fd_grad(lambda z: np.sum(g * refrope.apply_rope(z, pos, f, layout=layout, rotary_offset=offset)), x, h)
    # Linear map: no truncation error. Each F carries <= (terms + 4) eps |F|_1 of rounding; the difference
    # of two such values divided by 2h gives the bound below.
    f_abs = np.sum(np.abs(g) * (np.abs(x) + h) * max(1.0, f.attention_factor))
    np.testing.assert_allclose(got, fd, rtol=0, atol=(g.size + 4) * EPS * f_abs / h)


def test_rope_vjp_interleaved_to_half_undoes_the_output_permutation():
    """[D-ROPE-3] At p = 0 the VJP of interleaved_to_half is m P^T: grad_x[2i] = m g[i], grad_x[2i+1] = m g[i + d/2]."""
    f = refrope.Frequencies([0.3, 0.02, 1.5], attention_factor=1.25)
    g = np.arange(1.0, 9.0)  # head_dim 8, rotary slice [1, 7)
    got = refrope.apply_rope_vjp(g, 0, f, layout="interleaved_to_half", rotary_offset=1)
    want = g.copy()
    for i in range(3):
        want[1 + 2 * i], want[1 + 2 * i + 1] = 1.25 * g[1 + i], 1.25 * g[1 + i + 3]
    assert np.array_equal(got, want)
    # and at p != 0 it is the transpose of the forward map, built here column by column
    pos = 12345.0
    columns = [refrope.apply_rope(e, pos, f, layout="interleaved_to_half", rotary_offset=1) for e in np.eye(8)]
    forward = np.stack(columns, axis=1)
    got = refrope.apply_rope_vjp(g, pos, f, layout="interleaved_to_half", rotary_offset=1)
    np.testing.assert_allclose(got, forward.T @ g, rtol=0, atol=angle_bound(pos * 1.5, 8 * 1.25 * 8))


def test_rope_vjp_float64_and_input_untouched():
    """[D-ROPE-4] Any real dtype in, float64 out of grad_out's shape; grad_out and positions are not modified."""
    g = (np.arange(24) - 12).reshape(2, 3, 4).astype(np.int32)
    pos = np.array([3, 4, 5])
    g0, pos0 = g.copy(), pos.copy()
    out = refrope.apply_rope_vjp(g, pos, [1.0, 0.25], layout="interleaved")
    assert out.dtype == np.float64 and out.shape == g.shape
    assert np.array_equal(g, g0) and g.dtype == np.int32 and np.array_equal(pos, pos0)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(grad_out=np.float64(1.0)), ValueError, "grad_out"),
    (dict(grad_out=np.ones((3, 2))), ValueError, "grad_out"),  # head_dim 2 < rotary_dim 4
    (dict(positions=np.arange(4)), ValueError, "positions"),
    (dict(positions=[0, np.nan, 1]), ValueError, "positions"),
    (dict(grad_out=np.ones((3, 4), dtype=complex)), TypeError, "grad_out"),
    (dict(layout="neox"), ValueError, "layout"),
    (dict(rotary_offset=-1), ValueError, "rotary_offset"),
    (dict(rotary_offset=1), ValueError, "grad_out"),
])
def test_rope_vjp_rejects_bad_input(kwargs, exc, words):
    """[D-ROPE-4] Bad input raises ValueError/TypeError naming the parameter."""
    args = dict(grad_out=np.ones((3, 4)), positions=np.arange(3), freqs=[1.0, 0.5]) | kwargs
    freqs = args.pop("freqs")
    with pytest.raises(exc, match=words):
        refrope.apply_rope_vjp(args.pop("grad_out"), args.pop("positions"), freqs, **args)


# ----------------------------------------------------------------------------------------------
# attention_vjp: an independent forward in torch (float64), written from the score formula


def _allowed(pq, pk, causal, window, key_mask):
    """Which (query, key) pairs may attend: causal p_k <= p_q, window 0 <= p_q - p_k < N, key_mask True."""
    diff = pq[:, None] - pk[None, :]
    ok = np.ones(diff.shape, bool)
    if causal:
        ok &= diff >= 0
    if window is not None:
        ok &= (diff >= 0) & (diff < window)
    if key_mask is not None:
        ok = ok & np.asarray(key_mask, bool)[..., None, :]
    return ok


def _torch_attention(q, k, v, *, omega, m, pq, pk, fmap, coef, layout, causal=True, window=None, key_mask=None):
    """softmax_j(coef_i [q_pass.k_pass + m^2 sum_pairs (qa (c ka - s kb) + qb (s ka + c kb))]) @ v,
    with (c, s) = (cos, sin) of theta = -f(p_i - p_j) omega: R(theta) applied to the key pair (ka, kb)."""
    import torch

    group = q.shape[-3] // k.shape[-3]
    kk, vv = k.repeat_interleave(group, dim=-3), v.repeat_interleave(group, dim=-3)
    d = 2 * len(omega)
    a, b = _pair_index(d, layout)
    theta = torch.from_numpy(-fmap(pq[:, None] - pk[None, :])[..., None] * omega)
    c, s = torch.cos(theta), torch.sin(theta)
    qa, qb, ka, kb = q[..., a], q[..., b], kk[..., a], kk[..., b]
    e = torch.einsum
    rot = (e("...ip,ijp,...jp->...ij", qa, c, ka) - e("...ip,ijp,...jp->...ij", qa, s, kb)
           + e("...ip,ijp,...jp->...ij", qb, s, ka) + e("...ip,ijp,...jp->...ij", qb, c, kb))
    scores = torch.from_numpy(coef)[:, None] * (q[..., d:] @ kk[..., d:].transpose(-1, -2) + m * m * rot)
    ok = torch.from_numpy(np.broadcast_to(_allowed(pq, pk, causal, window, key_mask), scores.shape).copy())
    return torch.softmax(torch.where(ok, scores, -torch.inf), dim=-1) @ vv


def _torch_vjp(dout, q, k, v, **kw):
    """(output, grad_q, grad_k, grad_v) of sum(dout * _torch_attention(...)) by torch autograd."""
    torch = pytest.importorskip("torch", reason="torch is the second, independent gradient check")
    tq, tk, tv = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (q, k, v))
    out = _torch_attention(tq, tk, tv, **kw)
    (out * torch.from_numpy(dout)).sum().backward()
    return out.detach().numpy(), tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy()


def _problem(rng, *, batch=(1,), heads_q=2, heads_kv=1, n_q=3, n_k=4, d_rot=4, extra=1, d_v=2):
    q = rng.standard_normal(batch + (heads_q, n_q, d_rot + extra))
    k = rng.standard_normal(batch + (heads_kv, n_k, d_rot + extra))
    v = rng.standard_normal(batch + (heads_kv, n_k, d_v))
    return q, k, v, rng.standard_normal(batch + (heads_q, n_q, d_v))


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


@st.composite
def attention_cases(draw):
    """A small attention problem with long-context positions, a relpos map, layout, magnitude and query scale."""
    heads_kv, group = draw(st.integers(1, 2), label="heads_kv"), draw(st.integers(1, 2), label="group")
    n_k = draw(st.integers(1, 5), label="n_k")
    n_q = draw(st.integers(1, n_k), label="n_q")
    f = draw(frequencies(rotary_dim=draw(st.sampled_from([2, 4]), label="rotary_dim")), label="freqs")
    extra, d_v = draw(st.integers(0, 2), label="extra"), draw(st.integers(1, 3), label="d_v")
    start = draw(positions(2**20), label="first position")
    steps = draw(st.lists(st.integers(1, 2**12), min_size=n_k - 1, max_size=n_k - 1), label="steps")
    pk = start + np.concatenate([[0], np.cumsum(steps)]).astype(np.float64)
    name = draw(st.sampled_from(sorted(RELPOS)), label="relpos")
    causal = draw(st.booleans(), label="causal")
    qs = draw(st.sampled_from([None, "logn", "logn_clipped"]), label="query_scale")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    q, k, v, dout = _problem(rng, heads_q=heads_kv * group, heads_kv=heads_kv, n_q=n_q, n_k=n_k,
                             d_rot=f.rotary_dim, extra=extra, d_v=d_v)
    return dict(q=q, k=k, v=v, dout=dout, f=f, pq=pk[-n_q:], pk=pk, relpos=name, causal=causal, qs=qs,
                layout=draw(st.sampled_from(LAYOUTS), label="layout"),
                method=draw(st.sampled_from(["auto", "direct", "two_pass", "decode"]), label="method"),
                block_size=draw(st.sampled_from([None, 1, 2]), label="block_size"))


def _run_both(case):
    """refrope's (output, VJP) and torch's (output, autograd VJP) for one drawn case."""
    qs = None if case["qs"] is None else getattr(refrope.query_scale, case["qs"])(16)
    coef = np.ones(len(case["pq"])) if qs is None else np.asarray(qs(case["pq"]), dtype=np.float64)
    make, fmap = RELPOS[case["relpos"]]
    kw = dict(positions_q=case["pq"], positions_k=case["pk"], relpos=make(), layout=case["layout"],
              causal=case["causal"], query_scale=qs, method=case["method"], block_size=case["block_size"])
    f, q, k, v, dout = case["f"], case["q"], case["k"], case["v"], case["dout"]
    ours = (refrope.attention(q, k, v, f, **kw),) + refrope.attention_vjp(dout, q, k, v, f, **kw)
    theirs = _torch_vjp(dout, q, k, v, omega=f.inv_freq, m=f.attention_factor, pq=case["pq"], pk=case["pk"],
                        fmap=fmap, coef=coef / np.sqrt(q.shape[-1]), layout=case["layout"], causal=case["causal"])
    return ours, theirs


@given(case=attention_cases())
def test_attention_vjp_matches_torch_autograd(case):
    """[D-ATTN-2] [D-ATTN-3] refrope.attention and attention_vjp (every method, block size) equal torch float64
    autograd of the score formula."""
    ours, theirs = _run_both(case)
    f, pq, pk = case["f"], case["pq"], case["pk"]
    # Both sides compute the angles from the same positions (refrope's map and ours may differ by a rounding of
    # f(r), i.e. a few eps |angle|); cos/sin, products and sums then round independently. An error e in a score
    # reaches the outputs and gradients multiplied by at most n_k |v| |dout|, so the bound is
    # 16 angle_bound(max angle, n_k (1 + score size) (1 + |v|) (1 + |dout|)), score size = |c| (1 + m^2) D |q| |k|.
    angle = max_angle([np.abs(pq).max() + np.abs(pk).max()], f.inv_freq)
    q, k, v, dout = case["q"], case["k"], case["v"], case["dout"]
    coef = 1.0 if case["qs"] is None else max(1.0, np.abs(getattr(refrope.query_scale, case["qs"])(16)(pq)).max())
    score = coef * (1 + f.attention_factor**2) * q.shape[-1] * np.abs(q).max() * np.abs(k).max()
    size = len(pk) * (1 + score) * (1 + np.abs(v).max()) * (1 + np.abs(dout).max())
    for name, a, b in zip(("output", "grad_q", "grad_k", "grad_v"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=16 * angle_bound(angle, size), err_msg=name)


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
