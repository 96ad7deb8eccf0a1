"""[BIAS-SLOPES-1] [BIAS-PEERS-1]: ALiBi against transformers 5.24's Bloom, MPT and Falcon (float64, tiny random
configs, no network), and the Falcon findings of docs/known_libraries.md.

refrope's side is ``relpos="none", bias=alibi(...)``; each library's side is its own attention module (or model)
in float64 with the queries, keys and values read from its own projections. Probabilities are compared (the
libraries' biases differ from refrope's by per-row constants).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import refrope
from refrope import bias as bs

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers import BloomConfig, FalconConfig, FalconModel, MptConfig  # noqa: E402
from transformers.models.bloom import modeling_bloom  # noqa: E402
from transformers.models.falcon import modeling_falcon  # noqa: E402
from transformers.models.mpt import modeling_mpt  # noqa: E402

HEAD_COUNTS = [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64, 96, 128]
U32 = 2.0**-24
PROBS = 1e-12  # float64 on O(1) inputs: logits agree to ~1e-15, probabilities to a few 1e-16


def float32_softmax_bounds(scores: np.ndarray, v: np.ndarray, weight) -> tuple[float, float]:
    """Bloom and MPT take the softmax in float32 whatever the model dtype (``dtype=torch.float32``, ``.float()``):
    logits rounded to float32 (|ds| <= 2^-24 |s|) move a probability by at most 2 max|ds| (plus 4 roundings of the
    exponentials and the sum); the output (probabilities @ v, then a linear map W) by that times sum|v| |W|_inf."""
    size = float(np.abs(np.where(np.isfinite(scores), scores, 0.0)).max())
    probs = 8 * U32 * (1 + size)
    vsum = float(np.abs(v).sum(axis=-2).max())
    return probs, probs * vsum * float(np.abs(_np(weight)).sum(axis=1).max())


def _np(t) -> np.ndarray:
    return t.detach().to(torch.float64).numpy()


@pytest.mark.parametrize("n", HEAD_COUNTS)
def test_bloom_and_mpt_slopes_are_the_papers_within_float32(n):
    """[BIAS-SLOPES-1] Bloom's _get_alibi_slopes and MPT's build_mpt_alibi_tensor (alibi_bias_max=8) equal
    alibi_slopes(n) within float32 rounding: a rounded base raised to the power h + 1, |ds_h| <= (h + 3) 2^-24 s_h."""
    ours = bs.alibi_slopes(n)
    bound = (np.arange(n) + 3) * U32 * ours
    bloom = _np(modeling_bloom._get_alibi_slopes(n, torch.device("cpu")))
    assert np.all(np.abs(bloom - ours) <= bound)
    mpt = -_np(modeling_mpt.build_mpt_alibi_tensor(n, 4))[:, 0, 0] / 3  # slope * (j - 3) at j = 0
    assert np.all(np.abs(mpt - ours) <= bound)


def test_falcon_slopes_for_power_of_two_heads_and_short_sequences_are_exact():
    """[BIAS-SLOPES-1] Falcon's build_alibi_tensor is slope * j for 8 heads and j < 256 (bfloat16 holds them)."""
    alibi = _np(modeling_falcon.build_alibi_tensor(torch.ones(1, 200, dtype=torch.long), 8, torch.float64))
    assert np.array_equal(alibi.reshape(8, 200), bs.alibi_slopes(8)[:, None] * np.arange(200))


@pytest.mark.xfail(strict=True, reason="transformers 5.24 Falcon build_alibi_tensor multiplies bfloat16 slopes by "
                                       "the key index in bfloat16 (docs/known_libraries.md)")
@pytest.mark.parametrize("heads, length", [(12, 64), (8, 300)])
def test_falcon_alibi_tensor_is_slope_times_index(heads, length):
    """[BIAS-SLOPES-1] Finding: Falcon's ALiBi tensor should be slope * j within float32; it is computed in
    bfloat16 (slopes of 12 heads off by up to 2^-9 relative; 8 heads beyond j = 256 off by up to 0.5)."""
    alibi = _np(modeling_falcon.build_alibi_tensor(torch.ones(1, length, dtype=torch.long), heads, torch.float64))
    ours = bs.alibi_slopes(heads)[:, None] * np.arange(length)
    assert np.all(np.abs(alibi.reshape(heads, length) - ours) <= 4 * U32 * np.abs(ours))


def _causal_additive(n: int) -> torch.Tensor:
    mask = torch.full((n, n), torch.finfo(torch.float64).min, dtype=torch.float64).triu(1)
    return mask[None, None]


@pytest.mark.parametrize("heads", [1, 3, 4])
def test_bloom_attention_is_nope_attention_with_alibi(heads):
    """[BIAS-PEERS-1] BloomAttention (alibi s * j added by baddbmm to q.k/sqrt(d), causal mask) has refrope's
    probabilities and output with relpos="none", bias=alibi(slopes), within its float32 softmax."""
    torch.manual_seed(heads)
    config = BloomConfig(hidden_size=8 * heads, n_head=heads, attention_dropout=0.0, hidden_dropout=0.0)
    module = modeling_bloom.BloomAttention(config, layer_idx=0).to(torch.float64).eval()
    n = 7
    hidden, residual = torch.randn(2, n, 8 * heads, dtype=torch.float64), torch.zeros(2, n, 8 * heads,
                                                                                      dtype=torch.float64)
    slopes = bs.alibi_slopes(heads)
    alibi = torch.tensor(slopes[:, None, None] * np.arange(n)).repeat(2, 1, 1)  # (batch * heads, 1, n): s * j
    with torch.no_grad():
        out, probs = module(hidden, residual, alibi, _causal_additive(n))
        q, k, v = (_np(t) for t in module._reshape(module.query_key_value(hidden)))
    kw = dict(relpos="none", bias=bs.alibi(slopes), scale=1 / math.sqrt(8))
    ours = refrope.attention_probs(q, k, None, **kw)
    tol_p, tol_o = float32_softmax_bounds(refrope.attention_scores(q, k, None, **kw), v, module.dense.weight)
    np.testing.assert_allclose(_np(probs), ours, rtol=0, atol=tol_p)
    context = refrope.attention(q, k, v, None, **kw)
    with torch.no_grad():
        merged = module.dense(torch.tensor(context).permute(0, 2, 1, 3).reshape(2, n, 8 * heads))
    np.testing.assert_allclose(_np(out), _np(merged), rtol=0, atol=tol_o)


def test_bloom_builds_its_alibi_from_the_padding_mask_positions():
    """[BIAS-PEERS-1] [BIAS-SLOPES-1] Bloom's build_alibi_tensor is s * (position of the key) with positions counted
    over non-padded tokens (cumsum(mask) - 1), within float32 rounding."""
    mask = torch.tensor([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    alibi = _np(modeling_bloom.build_alibi_tensor(mask, 4, torch.float64)).reshape(2, 4, 6)
    positions = np.array([[0, 0, 0, 1, 2, 3], [0, 1, 2, 3, 4, 5]], dtype=float)
    ours = bs.alibi_slopes(4)[None, :, None] * positions[:, None, :]
    assert np.all(np.abs(alibi - ours) <= 8 * U32 * np.abs(ours))


@pytest.mark.parametrize("heads", [2, 3, 8])
def test_mpt_attention_is_nope_attention_with_alibi(heads):
    """[BIAS-PEERS-1] MptAttention (position bias s * (j - n_k + 1) added to q.k/sqrt(d), boolean causal mask) has
    refrope's probabilities and output with relpos="none", bias=alibi(slopes), within its float32 softmax."""
    torch.manual_seed(heads)
    config = MptConfig(d_model=4 * heads, n_heads=heads, max_seq_len=16)
    module = modeling_mpt.MptAttention(config, layer_idx=0).to(torch.float64).eval()
    n = 6
    hidden = torch.randn(1, n, 4 * heads, dtype=torch.float64)
    slopes = bs.alibi_slopes(heads)
    position_bias = torch.tensor(slopes[:, None, None] * (np.arange(n) - n + 1.0))  # (heads, 1, n)
    masked = torch.ones(n, n, dtype=torch.bool).triu(1)[None, None]
    with torch.no_grad():
        out, weights = module(hidden, position_bias, attention_mask=masked)
        q, k, v = (_np(t).reshape(1, n, heads, 4).transpose(0, 2, 1, 3) for t in
                   module.Wqkv(hidden).chunk(3, dim=2))
    kw = dict(relpos="none", bias=bs.alibi(slopes), scale=0.5)
    ours = refrope.attention_probs(q, k, None, **kw)
    tol_p, tol_o = float32_softmax_bounds(refrope.attention_scores(q, k, None, **kw), v, module.out_proj.weight)
    np.testing.assert_allclose(_np(weights), ours, rtol=0, atol=tol_p)
    context = refrope.attention(q, k, v, None, **kw)
    with torch.no_grad():
        projected = module.out_proj(torch.tensor(context).permute(0, 2, 1, 3).reshape(1, n, 4 * heads))
    np.testing.assert_allclose(_np(out), _np(projected), rtol=0, atol=tol_o)


def _falcon(implementation: str, heads: int = 4, multi_query: bool = False):
    torch.manual_seed(0)
    config = FalconConfig(vocab_size=40, hidden_size=8 * heads, num_hidden_layers=1, num_attention_heads=heads,
                          alibi=True, new_decoder_architecture=False, multi_query=multi_query, parallel_attn=True,
                          bias=False, attn_implementation=implementation)
    return FalconModel(config).to(torch.float64).eval()


def _falcon_run(model, ids, output_attentions):
    """The attention module's input and output, its probabilities (eager), and q, k, v from its projection."""
    seen = {}
    attention = model.h[0].self_attention
    attention.register_forward_pre_hook(lambda mod, args, kwargs: seen.update(hidden=args[0] if args else
                                                                              kwargs["hidden_states"]),
                                        with_kwargs=True)
    attention.register_forward_hook(lambda mod, args, output: seen.update(output=output[0]))
    with torch.no_grad():
        result = model(ids, output_attentions=output_attentions)
        q, k, v = attention._split_heads(attention.query_key_value(seen["hidden"]))
    q, k, v = (_np(t).transpose(0, 2, 1, 3) for t in (q, k, v))
    probs = None if not output_attentions else _np(result.attentions[0])
    return q, k, v, probs, seen["output"], attention


IDS = torch.tensor([[1, 5, 7, 9, 11, 3, 2, 8, 4]])


@pytest.mark.parametrize("multi_query", [False, True])
def test_falcon_sdpa_model_adds_alibi_once_before_the_scale(multi_query):
    """[BIAS-PEERS-1] FalconModel (SDPA): the mask carries s * j / sqrt(d) and SDPA scales q.k by 1/sqrt(d): the output
    equals refrope's with relpos="none", bias=alibi(slopes / sqrt(d)) (multi-query: one key head)."""
    model = _falcon("sdpa", multi_query=multi_query)
    q, k, v, _, output, attention = _falcon_run(model, IDS, False)
    context = refrope.attention(q, k, v, None, relpos="none", bias=bs.alibi(bs.alibi_slopes(4) / math.sqrt(8)))
    with torch.no_grad():
        merged = attention.dense(torch.tensor(context).permute(0, 2, 1, 3).reshape(1, IDS.shape[1], 32))
    np.testing.assert_allclose(_np(output), _np(merged), rtol=0, atol=PROBS)


@pytest.mark.xfail(strict=True, reason="transformers 5.24 FalconModel eager adds ALiBi twice: folded into the mask "
                                       "as alibi/sqrt(d) and added again inside FalconAttention "
                                       "(docs/known_libraries.md)")
def test_falcon_eager_model_adds_alibi_once():
    """[BIAS-PEERS-1] Finding: FalconModel (eager) should have the probabilities of bias=alibi(slopes / sqrt(d)),
    as its SDPA path does."""
    q, k, _, probs, _, _ = _falcon_run(_falcon("eager"), IDS, True)
    ours = refrope.attention_probs(q, k, None, relpos="none", bias=bs.alibi(bs.alibi_slopes(4) / math.sqrt(8)))
    np.testing.assert_allclose(probs, ours, rtol=0, atol=PROBS)


def test_falcon_eager_model_has_twice_the_alibi():
    """[BIAS-PEERS-1] The finding, verified: FalconModel (eager) probabilities are those of alibi(2 slopes / sqrt(d)),
    and its output differs from the SDPA model's (same weights) by far more than float64 rounding (~1e-15)."""
    q, k, _, probs, eager_out, _ = _falcon_run(_falcon("eager"), IDS, True)
    doubled = refrope.attention_probs(q, k, None, relpos="none", bias=bs.alibi(2 * bs.alibi_slopes(4) / math.sqrt(8)))
    np.testing.assert_allclose(probs, doubled, rtol=0, atol=PROBS)
    _, _, _, _, sdpa_out, _ = _falcon_run(_falcon("sdpa"), IDS, False)
    assert np.abs(_np(eager_out) - _np(sdpa_out)).max() > 1e-8


def test_falcon_sdpa_model_asked_for_attentions_is_the_eager_one():
    """[BIAS-PEERS-1] The finding's reach: output_attentions=True sends an SDPA FalconModel down the eager branch, so
    asking for the weights doubles ALiBi: its probabilities are those of alibi(2 slopes / sqrt(d))."""
    q, k, _, probs, _, _ = _falcon_run(_falcon("sdpa"), IDS, True)
    doubled = refrope.attention_probs(q, k, None, relpos="none", bias=bs.alibi(2 * bs.alibi_slopes(4) / math.sqrt(8)))
    np.testing.assert_allclose(probs, doubled, rtol=0, atol=PROBS)
