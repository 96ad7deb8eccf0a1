"""[CHUNK-LLAMA4-1] [A-MASK-5] [A-NOPE-1]: Llama 4's chunked RoPE layers, NoPE layers and masking_utils' chunked masks
against transformers 5.24 (float64, tiny random configs, no network)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import refrope

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers import Llama4TextConfig  # noqa: E402
from transformers import masking_utils as mu  # noqa: E402
from transformers.models.llama4 import modeling_llama4  # noqa: E402

U32 = 2.0**-24


def _np(t) -> np.ndarray:
    return t.detach().to(torch.float64).numpy()


def _config(chunk: int = 3) -> Llama4TextConfig:
    config = Llama4TextConfig(hidden_size=16, num_attention_heads=2, num_key_value_heads=1, head_dim=8,
                              num_hidden_layers=4, intermediate_size=32, intermediate_size_mlp=32, vocab_size=50,
                              attention_chunk_size=chunk, use_qk_norm=False, attn_temperature_tuning=True,
                              floor_scale=2, attn_scale=0.5, rope_theta=10000.0)
    config._attn_implementation = "eager"
    return config


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
@pytest.mark.parametrize("pad", [0, 1, 4])
def test_masking_utils_chunked_mask_is_causal_and_same_chunk_by_position(chunk, pad):
    """[CHUNK-LLAMA4-1] [A-MASK-5] masking_utils.chunked_causal_mask_function with left padding pad is refrope's
    causal chunk mask at positions index - pad (floor((j - pad)/C) == floor((i - pad)/C), j <= i)."""
    n = 11
    mask = mu.sdpa_mask(batch_size=1, q_length=n, kv_length=n, allow_is_causal_skip=False,
                        mask_function=mu.chunked_causal_mask_function(chunk, torch.tensor([pad])))
    positions = np.arange(n) - pad
    ours = np.isfinite(refrope.attention_scores(np.zeros((1, n, 2)), np.zeros((1, n, 2)), None, relpos="none",
                                                positions_q=positions, positions_k=positions, chunk_size=chunk))
    assert np.array_equal(mask[0, 0].numpy(), ours[0])


def test_create_chunked_causal_mask_with_padding_is_refropes_masks():
    """[CHUNK-LLAMA4-1] [A-MASK-5] [A-MASK-3] create_chunked_causal_mask (eager, a padded batch) keeps exactly the pairs
    refrope keeps with positions from the first real token, chunk_size and the padding as key_mask."""
    config = _config(chunk=3)
    attention_mask = torch.tensor([[0, 0, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]])
    n = attention_mask.shape[1]
    mask = mu.create_chunked_causal_mask(config=config, inputs_embeds=torch.zeros(2, n, 16, dtype=torch.float64),
                                         attention_mask=attention_mask, cache=None,
                                         position_ids=torch.arange(n)[None].repeat(2, 1))
    keep = _np(mask)[:, 0] == 0
    pad = (attention_mask == 0).sum(-1).numpy()
    positions = np.arange(n)[None, :] - pad[:, None]
    ours = np.isfinite(refrope.attention_scores(np.zeros((2, 1, n, 2)), np.zeros((2, 1, n, 2)), None, relpos="none",
                                                positions_q=positions, positions_k=positions, chunk_size=3,
                                                key_mask=attention_mask.numpy().astype(bool)))[:, 0]
    real = attention_mask.numpy().astype(bool)
    assert np.array_equal(keep[real], ours[real])  # rows of real queries (padded rows are a convention)


def _module(config, layer_idx):
    module = modeling_llama4.Llama4TextAttention(config, layer_idx).to(torch.float64).eval()
    with torch.no_grad():  # q = h, k = v = the first head of h: exact in float32 when h is (Llama 4 rotates in
        module.q_proj.weight.copy_(torch.eye(16))  # complex64 through xq.float())
        module.k_proj.weight.copy_(torch.eye(16)[:8])
        module.v_proj.weight.copy_(torch.eye(16)[:8])
        module.o_proj.weight.copy_(torch.eye(16))
    return module


@pytest.mark.parametrize("chunk", [2, 3, 4])
def test_llama4_chunked_rope_layer_is_interleaved_rope_with_chunk_size(chunk):
    """[CHUNK-LLAMA4-1] A Llama 4 RoPE layer (chunked_attention: complex rotation of consecutive pairs, the chunked
    causal mask, GQA) has refrope's probabilities with layout="interleaved", chunk_size=attention_chunk_size."""
    config = _config(chunk)
    assert config.layer_types[0] == "chunked_attention" and config.no_rope_layers[0]
    module = _module(config, 0)
    n = 10
    hidden = torch.randn(1, n, 16, generator=torch.Generator().manual_seed(chunk)).float().double()
    freqs = refrope.inv_freq("default", 8, theta=10000.0)
    angles = torch.tensor(np.arange(n)[:, None] * freqs.inv_freq)[None]
    freqs_cis = torch.polar(torch.ones_like(angles), angles)  # complex128 from the oracle's angles
    mask = mu.create_chunked_causal_mask(config=config, inputs_embeds=hidden, attention_mask=None, cache=None,
                                         position_ids=torch.arange(n)[None])
    with torch.no_grad():
        _, weights = module(hidden, freqs_cis, mask)
    q = _np(hidden).reshape(1, n, 2, 8).transpose(0, 2, 1, 3)
    k = q[:, :1]
    ours = refrope.attention_probs(q, k, freqs, layout="interleaved", chunk_size=chunk)
    np.testing.assert_allclose(_np(weights), ours, rtol=0, atol=1e-12)


def test_llama4_nope_layer_is_nope_with_the_temperature():
    """[CHUNK-LLAMA4-1] [A-NOPE-1] [G-LLAMA4-1] A Llama 4 NoPE layer (full causal attention, no rotation,
    temperature log1p(floor((p + 1)/F)) a + 1 on q) has refrope's probabilities with relpos="none",
    query_scale=llama4_temperature(F, a); transformers computes the temperature in float32, so a logit may differ
    by 2^-24 |s| (probabilities by twice the largest of those)."""
    config = _config()
    assert config.layer_types[3] == "full_attention" and not config.no_rope_layers[3]
    module = _module(config, 3)
    with torch.no_grad():
        module.q_proj.weight.copy_(torch.randn(16, 16, generator=torch.Generator().manual_seed(1)))
    n = 12
    hidden = torch.randn(1, n, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    mask = mu.create_causal_mask(config=config, inputs_embeds=hidden, attention_mask=None, cache=None,
                                 position_ids=torch.arange(n)[None])
    with torch.no_grad():
        _, weights = module(hidden, None, mask)
        q = _np(module.q_proj(hidden)).reshape(1, n, 2, 8).transpose(0, 2, 1, 3)
    k = _np(hidden).reshape(1, n, 2, 8).transpose(0, 2, 1, 3)[:, :1]
    kw = dict(relpos="none", query_scale=refrope.query_scale.llama4_temperature(2, 0.5), scale=1 / math.sqrt(8))
    scores = refrope.attention_scores(q, k, None, **kw)
    size = float(np.abs(np.where(np.isfinite(scores), scores, 0.0)).max())
    np.testing.assert_allclose(_np(weights), refrope.attention_probs(q, k, None, **kw), rtol=0,
                               atol=4 * U32 * size + 1e-12)
    plain = refrope.attention_probs(q, k, None, relpos="none", scale=1 / math.sqrt(8))
    assert np.abs(_np(weights) - plain).max() > 1e-3  # the temperature matters at these positions (F = 2)
