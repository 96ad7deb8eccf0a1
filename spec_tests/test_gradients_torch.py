"""[D-ATTN-2]: the gradient (VJP) of RoPE attention against torch autograd, in float64, of an attention
forward written here from the score formula s_ij = c_i [q_pass . k_pass + m^2 q_rot . R(-f(p_i - p_j)) k_rot],
c_i = scale * query_scale(p_i), with its own relative-position maps (spec_tests.grad_references), masks and
pair indices; nothing is shared with refrope.gradients.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from spec_tests.bounds import angle_bound, max_angle
from spec_tests.grad_references import RELPOS, _pair_index, _problem
from spec_tests.strategies import LAYOUTS, frequencies, positions

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
    m = 1.0 if case["relpos"] == "none" else f.attention_factor  # NoPE has no magnitude [A-NOPE-1]
    theirs = _torch_vjp(dout, q, k, v, omega=f.inv_freq, m=m, pq=case["pq"], pk=case["pk"],
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


