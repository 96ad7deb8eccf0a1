"""[MM-XCHECK-1] M-RoPE against transformers' own code, on tiny random configurations (no weights, no network).

* ``Qwen2VLRotaryEmbedding`` and ``Qwen3VLTextRotaryEmbedding``: ``recomposition_frequencies`` on float64 labels
  ``1000 a + i`` (axis a, pair i) gives exactly the axis of every pair (``mrope_axes``); their forward cos and sin
  (float32 angles, as their code computes them) are within [N-COSSIN-1] of the oracle's;
* ``get_rope_index`` of tiny random Qwen2-VL, Qwen2.5-VL and Qwen3-VL models equals ``mrope_positions(...,
  resume="spatial")`` exactly, rope deltas included; where it differs from ``resume="max"`` (a video longer than
  it is wide) the difference is the documented transformers 5.x finding (an xfail, docs/known_libraries.md);
* rotary-embedding-torch's ``get_axial_freqs`` against the ``rotary_embedding_torch_axial`` table.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refrope
from refrope import budgets
from refrope.multimodal import engine_axes, engine_freqs

torch = pytest.importorskip("torch", reason="torch is not installed")
transformers = pytest.importorskip("transformers", reason="transformers is not installed (pip install -e '.[hf]')")

from transformers import Qwen2_5_VLConfig, Qwen2VLConfig, Qwen3VLConfig  # noqa: E402
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VLModel  # noqa: E402
from transformers.models.qwen2_vl import configuration_qwen2_vl as q2c  # noqa: E402
from transformers.models.qwen2_vl.modeling_qwen2_vl import Qwen2VLModel, Qwen2VLRotaryEmbedding  # noqa: E402
from transformers.models.qwen3_vl import configuration_qwen3_vl as q3c  # noqa: E402
from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLModel, Qwen3VLTextRotaryEmbedding  # noqa: E402

TINY = {"intermediate_size": 16, "num_hidden_layers": 1, "num_key_value_heads": 1, "vocab_size": 64,
        "bos_token_id": None, "eos_token_id": None}


def _text_config(cls, d, sections, theta=1e6):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(hidden_size=2 * d, num_attention_heads=2, head_dim=d, **TINY, rope_parameters={
            "rope_type": "default", "rope_theta": theta, "mrope_section": list(sections)})


ROTARIES = {"blocked": (Qwen2VLRotaryEmbedding, q2c.Qwen2VLTextConfig),
            "interleaved": (Qwen3VLTextRotaryEmbedding, q3c.Qwen3VLTextConfig)}
SECTIONS = {"blocked": [(16, 24, 24), (8, 12, 12), (3, 0, 5)], "interleaved": [(24, 20, 20), (11, 11, 10), (2, 3, 1)]}


@pytest.mark.parametrize("mode", sorted(ROTARIES))
def test_recomposition_is_the_axis_map(mode):
    """[MM-XCHECK-1] [MM-AXES-1] [MM-AXES-2] recomposition_frequencies of labels 1000 a + i returns, for every pair
    i, the label of axis mrope_axes(sections, mode)[i] at the same i (frequency index not reset), twice (cat)."""
    module_cls, config_cls = ROTARIES[mode]
    for sections in SECTIONS[mode]:
        pairs = sum(sections)
        module = module_cls(_text_config(config_cls, 2 * pairs, sections))
        labels = 1000.0 * torch.arange(3, dtype=torch.float64)[:, None] + torch.arange(pairs, dtype=torch.float64)
        got = module.recomposition_frequencies(labels[:, None, None, :].clone())[0, 0].numpy()
        axes = refrope.mrope_axes(sections, mode)
        want = 1000.0 * axes + np.arange(pairs)
        assert np.array_equal(got, np.concatenate([want, want])), sections


@pytest.mark.parametrize("mode", sorted(ROTARIES))
def test_forward_cos_sin_within_budget(mode):
    """[MM-XCHECK-1] [N-COSSIN-1] The rotary embedding's forward (its own inv_freq, float32 angles) against the
    oracle's cos and sin of p_{a_i} w_i, positions up to 2^20, within the float32 budget."""
    module_cls, config_cls = ROTARIES[mode]
    sections = SECTIONS[mode][0]
    d = 2 * sum(sections)
    module = module_cls(_text_config(config_cls, d, sections, theta=5e6))
    pos = np.random.default_rng(7).integers(0, 2**20, (3, 2, 9))
    cos, sin = module(torch.zeros(1), torch.as_tensor(pos))
    freqs = refrope.inv_freq("default", d, theta=5e6)
    axes = refrope.mrope_axes(sections, mode)
    phi = np.take_along_axis(pos[..., None] * freqs.inv_freq, axes.reshape(1, 1, 1, -1) + np.zeros((1,) + pos.shape[1:]
                                                                                                + (1,), dtype=int),
                             axis=0)[0]
    phi = np.concatenate([phi, phi], axis=-1)
    budget = budgets.C_DTYPE * 2.0**-24 + budgets.C_ANGLE * 2.0**-24 * (1.0 + np.abs(phi)) + 2.0**-149
    assert np.all(np.abs(cos.double().numpy() - np.cos(phi)) <= budget)
    assert np.all(np.abs(sin.double().numpy() - np.sin(phi)) <= budget)


@pytest.fixture(scope="module")
def models():
    """Tiny random Qwen2-VL, Qwen2.5-VL (tokens_per_second 2) and Qwen3-VL models (one layer, width 16)."""
    text = dict(hidden_size=16, num_attention_heads=2, **TINY,
                rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [1, 1, 2]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vision = dict(depth=1, hidden_size=16, num_heads=2)
        return {
            "qwen2_vl": Qwen2VLModel(Qwen2VLConfig(text_config=text, vision_config=dict(vision, embed_dim=16,
                                                                                       mlp_ratio=1))).eval(),
            "qwen2_5_vl": Qwen2_5_VLModel(Qwen2_5_VLConfig(text_config=text, vision_config=dict(
                vision, out_hidden_size=16, intermediate_size=16, tokens_per_second=2))).eval(),
            "qwen3_vl": Qwen3VLModel(Qwen3VLConfig(text_config=dict(text, head_dim=8), vision_config=dict(
                vision, out_hidden_size=16, intermediate_size=16, num_position_embeddings=16))).eval()}


def _transformers_positions(model, name, segments):
    """Run model.get_rope_index on the token types and grids of ``segments``."""
    types, images, videos, seconds = [], [], [], []
    for seg in segments:
        if seg[0] == "text":
            types += [0] * seg[1]
            continue
        t, h, w = seg[1:4]
        tokens = t * (h // 2) * (w // 2)
        (images if seg[0] == "image" else videos).append([t, h, w])
        seconds += [seg[4]] if seg[0] == "video" and len(seg) == 5 else ([1.0] if seg[0] == "video" else [])
        types += [1 if seg[0] == "image" else 2] * tokens
    tt = torch.tensor([types])
    kwargs = {"image_grid_thw": torch.tensor(images) if images else None,
              "video_grid_thw": torch.tensor(videos) if videos else None}
    if name == "qwen2_5_vl":
        kwargs["second_per_grid_ts"] = torch.tensor(seconds) if seconds else None
    if name == "qwen3_vl" and videos:  # one grid per frame, as its processor splits videos by timestamps
        kwargs["video_grid_thw"] = torch.tensor([[1, h, w] for t, h, w in videos for _ in range(t)])
    positions, delta = model.get_rope_index(torch.zeros_like(tt), tt, **kwargs)
    return positions[:, 0].numpy(), int(delta[0, 0])


def _segments(name):
    """Vision segments each after text (their vision-start token): get_rope_index groups adjacent tokens of one type."""
    text = st.tuples(st.just("text"), st.integers(1, 3))
    grid = (st.integers(1, 3), st.sampled_from([2, 4, 6]), st.sampled_from([2, 4]))
    image = st.tuples(st.just("image"), st.just(1), *grid[1:])
    video = st.tuples(st.just("video"), *grid)
    if name == "qwen3_vl":  # frames between timestamp text
        video = st.tuples(st.just("video"), st.just(1), *grid[1:])
    if name == "qwen2_5_vl":
        video = st.tuples(st.just("video"), *grid, st.sampled_from([0.5, 1.0, 2.0]))
    return st.lists(st.tuples(text, st.one_of(image, video)), min_size=1, max_size=3).flatmap(
        lambda pairs: st.lists(text, max_size=1).map(lambda tail: [s for pair in pairs for s in pair] + tail))


@pytest.mark.parametrize("name", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_get_rope_index_is_spatial_resume(models, name, data):
    """[MM-XCHECK-1] [MM-POS-1] [MM-POS-2] [MM-POS-3] get_rope_index of transformers 5.24 (Qwen2-VL; Qwen2.5-VL with
    tokens_per_second 2 and seconds per grid 0.5, 1, 2; Qwen3-VL with one grid per frame between text) equals
    mrope_positions(..., resume="spatial") exactly, and its rope delta is next_position - seq."""
    segments = data.draw(_segments(name), label="segments")
    tps = 2.0 if name == "qwen2_5_vl" else None
    ours, nxt = refrope.mrope_positions(segments, tokens_per_second=tps, resume="spatial")
    theirs, delta = _transformers_positions(models[name], name, segments)
    assert np.array_equal(theirs, ours) and delta == nxt - ours.shape[1]


def test_get_rope_index_agrees_with_max_resume_on_images(models):
    """[MM-XCHECK-1] [MM-POS-3] For images (and videos no longer than they are wide) both resume rules agree, so
    transformers 5.24 equals the default resume="max"."""
    segments = [("text", 2), ("image", 1, 6, 4), ("text", 3), ("video", 2, 4, 4), ("text", 1)]
    ours, _ = refrope.mrope_positions(segments)
    assert np.array_equal(_transformers_positions(models["qwen2_vl"], "qwen2_vl", segments)[0], ours)


@pytest.mark.xfail(strict=True, reason="transformers 5.x get_rope_index resumes after a vision block at "
                   "p + max(h', w') instead of the block's maximum + 1 (docs/known_libraries.md)")
@pytest.mark.parametrize("name", ["qwen2_vl", "qwen2_5_vl"])
def test_get_rope_index_resumes_past_long_videos(models, name):
    """[MM-XCHECK-1] [MM-POS-3] A 6-frame video of 2 x 2 tokens then text: the models' rule (resume="max") puts the
    text at 1 + 5 + 1 = 7 (Qwen2.5-VL at 1 + floor(5 * 2 * 1) + 1 = 12); transformers 5.24 at 1 + 2 = 3."""
    segments = [("text", 1), ("video", 6, 4, 4, 1.0) if name == "qwen2_5_vl" else ("video", 6, 4, 4), ("text", 2)]
    ours, _ = refrope.mrope_positions(segments, tokens_per_second=2.0 if name == "qwen2_5_vl" else None)
    assert np.array_equal(_transformers_positions(models[name], name, segments)[0], ours)


def test_rotary_embedding_torch_axial():
    """[MM-XCHECK-1] [MM-ENG-1] rotary-embedding-torch get_axial_freqs(h, w) of RotaryEmbedding(2 s) (freqs_for
    'lang') equals, per pair, the positions (row, column) times the rotary_embedding_torch_axial table's frequencies
    on its axes, within float32 rounding of the angles."""
    ret = pytest.importorskip("rotary_embedding_torch", reason="rotary-embedding-torch is not installed")
    s, h, w, theta = 4, 5, 7, 100.0
    angles = ret.RotaryEmbedding(dim=2 * s, theta=theta).get_axial_freqs(h, w).double().numpy()  # (h, w, 4 s)
    axes = engine_axes("rotary_embedding_torch_axial", [s, s], rotary_dim=4 * s)
    omega = engine_freqs("rotary_embedding_torch_axial", [s, s], rotary_dim=4 * s, theta=theta).inv_freq
    grid = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"))  # (2, h, w)
    ours = grid[axes].transpose(1, 2, 0) * omega  # (h, w, 2 s)
    assert np.allclose(angles[..., 0::2], ours, rtol=4 * 2.0**-24, atol=0)
    assert np.array_equal(angles[..., 0::2], angles[..., 1::2])  # each angle twice: the interleaved layout
