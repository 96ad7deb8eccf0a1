"""refrope.from_hf_config against transformers 5.24 itself (docs/spec/hf_config.md).

Both sides read the same config dict: refrope through :func:`refrope.from_hf_config`, transformers
through a real configuration class and its own ``ROPE_INIT_FUNCTIONS`` / ``compute_default_rope_parameters``
or the model's rotary module. transformers computes in float32, so agreement is to a relative 5e-6
([H-MAP-1]); the two deliberate differences ([H-TRUNC-1]) are tested as differences.
"""

from __future__ import annotations

import copy
import importlib
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the transformers cross-check needs torch (pip install -e '.[hf]')")
transformers = pytest.importorskip("transformers", reason="the cross-check needs transformers (pip install -e '.[hf]')")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402

import refrope  # noqa: E402
from spec_tests import hf_models  # noqa: E402
from spec_tests import hf_strategies as hs  # noqa: E402

RTOL = 5e-6  # float32 in transformers: a few 2^-24 on the exponent times ln(theta <= 1e7) (~1e-6), with margin
transformers.utils.logging.set_verbosity_error()

_NEOX_DEFAULT = "transformers.models.gpt_neox.modeling_gpt_neox:GPTNeoXRotaryEmbedding"  # applies partial
_LAYERED_DEFAULT = "transformers.models.laguna.modeling_laguna:LagunaRotaryEmbedding"  # per layer, applies partial
_ROTARY_MODULE = {  # each fixture's config class -> the model's rotary module
    "LlamaConfig": "transformers.models.llama.modeling_llama:LlamaRotaryEmbedding",
    "Qwen2Config": "transformers.models.qwen2.modeling_qwen2:Qwen2RotaryEmbedding",
    "DeepseekV3Config": "transformers.models.deepseek_v3.modeling_deepseek_v3:DeepseekV3RotaryEmbedding",
    "GptOssConfig": "transformers.models.gpt_oss.modeling_gpt_oss:GptOssRotaryEmbedding",
    "Phi3Config": "transformers.models.phi3.modeling_phi3:Phi3RotaryEmbedding",
    "GPTNeoXConfig": _NEOX_DEFAULT,
    "Gemma3TextConfig": "transformers.models.gemma3.modeling_gemma3:Gemma3RotaryEmbedding",
    "Gemma4TextConfig": "transformers.models.gemma4.modeling_gemma4:Gemma4TextRotaryEmbedding",
    "HunYuanDenseV1Config":
        "transformers.models.hunyuan_v1_dense.modeling_hunyuan_v1_dense:HunYuanDenseV1RotaryEmbedding",
    "Mistral4Config": "transformers.models.mistral4.modeling_mistral4:Mistral4RotaryEmbedding",
    "DeepseekV4Config": "transformers.models.deepseek_v4.modeling_deepseek_v4:DeepseekV4RotaryEmbedding",
}


def _load(path: str):
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _hf_config(config: dict, config_class: str):
    """A transformers config object built from a deep copy (transformers edits the dicts it is given)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(transformers, config_class)(**copy.deepcopy(config))


def hf_frequencies(config: dict, *, seq_len=None, layer_type=None, config_class=None):
    """transformers' ``(inv_freq, attention_factor)`` from its own rope functions, as float64."""
    config_class = config_class or ("GptOssConfig" if layer_type else "LlamaConfig")
    obj = _hf_config(config, config_class)
    nested = layer_type is not None and layer_type in obj.rope_parameters
    rope_type = (obj.rope_parameters[layer_type] if nested else obj.rope_parameters)["rope_type"]
    if rope_type == "default":
        function = _load(_LAYERED_DEFAULT if nested else _NEOX_DEFAULT).compute_default_rope_parameters
    else:
        function = ROPE_INIT_FUNCTIONS[rope_type]
    kwargs = {"layer_type": layer_type} if nested else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv, factor = function(obj, device="cpu", seq_len=seq_len, **kwargs)
    return inv.to(torch.float64).numpy(), float(factor)


def hf_module_frequencies(config: dict, config_class: str, layer_type=None):
    """What the model's rotary module holds after initialisation (``inv_freq``, ``attention_scaling``)."""
    obj = _hf_config(config, config_class)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = _load(_ROTARY_MODULE[config_class])(obj)
    if isinstance(obj.rope_parameters.get(layer_type), dict):
        return (getattr(module, f"{layer_type}_inv_freq").to(torch.float64).numpy(),
                float(getattr(module, f"{layer_type}_attention_scaling")))
    return module.inv_freq.to(torch.float64).numpy(), float(module.attention_scaling)


def tolerance(ours: refrope.Frequencies) -> float:
    """RTOL, widened for llama3 by its band slope A = (k - 1) h / (h - l), which multiplies transformers'
    float32 wavelength error ([H-MAP-1]; measured: at most 2e-7 A)."""
    if ours.variant != "llama3":
        return RTOL
    k, low, high = (ours.params[key] for key in ("factor", "low_freq_factor", "high_freq_factor"))
    return RTOL * max(1.0, (k - 1.0) * high / (high - low) / 10.0)


def assert_agree(ours: refrope.Frequencies, theirs: tuple, context: str = "") -> None:
    """inv_freq and attention_factor within a relative :func:`tolerance` of transformers' ([H-MAP-1])."""
    __tracebackhide__ = True
    inv, factor = theirs
    rtol = tolerance(ours)
    assert ours.inv_freq.shape == inv.shape, f"{context}: shape {ours.inv_freq.shape} vs transformers {inv.shape}"
    np.testing.assert_allclose(ours.inv_freq, inv, rtol=rtol, atol=0.0, err_msg=context)
    assert abs(ours.attention_factor - factor) <= rtol * factor, f"{context}: {ours.attention_factor} vs {factor}"


def test_cross_check_covers_every_transformers_type():
    """[H-MAP-1] The cross-check draws every rope type transformers 5.24 implements (its table plus default)."""
    assert set(ROPE_INIT_FUNCTIONS) | {"default"} == set(hs.HF_TYPES)


@pytest.mark.parametrize("rope_type", hs.HF_TYPES)
@settings(max_examples=4 * settings.default.max_examples)  # 100 (dev) or 160 (ci) configs per type
@given(data=st.data())
def test_matches_transformers(rope_type, data):
    """[H-MAP-1] [H-V4V5-1] [H-NEST-1] [H-HEAD-1] [H-PARTIAL-1] [H-ORIG-1] [H-DYN-1] [H-YARN-1] [H-LONG-1]
    from_hf_config equals transformers' rope function on v4, v5 and nested configs, to a relative 5e-6."""
    case = data.draw(hs.hf_cases(rope_types=(rope_type,)), label="case")
    ours = refrope.from_hf_config(case.config, seq_len=case.seq_len, layer_type=case.layer_type)
    assert_agree(ours, hf_frequencies(case.config, seq_len=case.seq_len, layer_type=case.layer_type), repr(case))


@pytest.mark.parametrize("offset", [None, -1, 0, 1])
@pytest.mark.parametrize("where", ["rope", "top"])
def test_longrope_boundary_matches_transformers(offset, where):
    """[H-LONG-1] [H-ORIG-1] At seq_len None, L-1 and L the short factors are used, at L+1 the long ones, with L
    the top-level original_max_position_embeddings when there is one (Phi-3), as in transformers."""
    rope = {"rope_type": "longrope", "short_factor": [1.0, 2.0, 3.0, 4.0], "long_factor": [5.0, 6.0, 7.0, 8.0]}
    config = {"head_dim": 8, "max_position_embeddings": 8192, "rope_parameters": rope}
    if where == "top":
        config["original_max_position_embeddings"] = 1024
        rope["original_max_position_embeddings"] = 4096  # loses to the top-level value
    else:
        rope["original_max_position_embeddings"] = 1024
    seq_len = None if offset is None else 1024 + offset
    ours = refrope.from_hf_config(config, seq_len=seq_len)
    assert_agree(ours, hf_frequencies(config, seq_len=seq_len))
    ext = np.array(rope["long_factor"] if offset == 1 else rope["short_factor"])
    np.testing.assert_allclose(ours.inv_freq, 10000.0 ** (-np.arange(4) / 4) / ext, rtol=1e-15)


@pytest.mark.parametrize("seq_len", [None, 0, 2047, 2048, 2049, 16384])
def test_dynamic_seq_len_matches_transformers(seq_len):
    """[H-DYN-1] dynamic uses L = max_position_embeddings, seq_len None means L, below L it is unscaled."""
    config = {"head_dim": 64, "max_position_embeddings": 2048, "rope_scaling": {"type": "dynamic", "factor": 4.0}}
    ours = refrope.from_hf_config(config, seq_len=seq_len)
    assert_agree(ours, hf_frequencies(config, seq_len=seq_len))
    default = refrope.from_hf_config({"head_dim": 64})
    assert np.array_equal(ours.inv_freq, default.inv_freq) == (seq_len is None or seq_len <= 2048)


def test_partial_default_follows_gpt_neox_not_llama():
    """[H-PARTIAL-1] partial_rotary_factor applies to the default type (GPT-NeoX's reading); Llama's
    compute_default_rope_parameters ignores it and rotates the whole head."""
    config = {"head_dim": 64, "rope_theta": 500000.0, "partial_rotary_factor": 0.5}
    ours = refrope.from_hf_config(config)
    assert ours.rotary_dim == 32
    assert_agree(ours, hf_frequencies(config))
    llama = _load("transformers.models.llama.modeling_llama:LlamaRotaryEmbedding")
    inv, _ = llama.compute_default_rope_parameters(_hf_config(config, "LlamaConfig"))
    assert inv.shape == (32,)  # 64 / 2 pairs: the factor is dropped there


_GPT_OSS_YARN = {"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
                 "original_max_position_embeddings": 4096}


def _nested(full: dict, **beside) -> dict:
    return {"head_dim": 64, "rope_theta": 150000.0, "max_position_embeddings": 131072,
            "layer_types": ["sliding_attention", "full_attention"], "num_hidden_layers": 2,
            "rope_parameters": {"sliding_attention": {"rope_type": "default"}, "full_attention": full, **beside}}


def test_per_layer_truncate_is_honoured_unlike_transformers():
    """[H-TRUNC-1] A truncate inside a per-layer entry is honoured; transformers 5.24 reads truncate only from the
    top level of rope_parameters, so the two differ exactly there and agree once truncate sits at the top level."""
    flat_false = {"head_dim": 64, "rope_theta": 150000.0, "max_position_embeddings": 131072,
                  "rope_parameters": {**_GPT_OSS_YARN, "truncate": False}}
    per_layer = _nested({**_GPT_OSS_YARN, "truncate": False})
    ours = refrope.from_hf_config(per_layer, layer_type="full_attention")
    theirs = hf_frequencies(per_layer, layer_type="full_attention")
    assert_agree(ours, hf_frequencies(flat_false))  # ours: the per-layer False holds
    assert_agree(refrope.from_hf_config(_nested(_GPT_OSS_YARN), layer_type="full_attention"), theirs)  # theirs: True
    assert np.max(np.abs(ours.inv_freq / theirs[0] - 1.0)) > 1e-2  # the difference is real at gpt-oss's parameters
    beside = _nested(dict(_GPT_OSS_YARN), truncate=False)
    assert_agree(refrope.from_hf_config(beside, layer_type="full_attention"),
                 hf_frequencies(beside, layer_type="full_attention"))


def test_null_truncate_means_true_unlike_transformers():
    """[H-TRUNC-1] truncate: null is read as unspecified, i.e. True; transformers' `if truncate` reads it as False."""
    def config(truncate):
        return {"head_dim": 64, "rope_theta": 150000.0, "rope_parameters": {**_GPT_OSS_YARN, "truncate": truncate}}
    ours = refrope.from_hf_config(config(None))
    assert ours == refrope.from_hf_config(config(True))
    assert_agree(ours, hf_frequencies(config(True)))
    theirs = hf_frequencies(config(None))
    np.testing.assert_array_equal(theirs[0], hf_frequencies(config(False))[0])
    assert np.max(np.abs(ours.inv_freq / theirs[0] - 1.0)) > 1e-2


_FIXTURE_CALLS = [(name, layer_type) for name, (_, config) in hf_models.MODEL_CONFIGS.items()
                  for layer_type in hf_models.layer_types_of(config)]


@pytest.mark.parametrize(("name", "layer_type"), _FIXTURE_CALLS)
def test_model_fixture_matches_transformers_module(name, layer_type):
    """[H-FIX-1] [H-MAP-1] Each real-model config gives what the model's own rotary module holds after
    initialisation in transformers 5.24."""
    config_class, config = hf_models.MODEL_CONFIGS[name]
    ours = refrope.from_hf_config(config, layer_type=layer_type)
    assert_agree(ours, hf_module_frequencies(config, config_class, layer_type), name)


@pytest.mark.parametrize("name", [name for name, (_, c) in hf_models.MODEL_CONFIGS.items() if "longrope" in repr(c)
                                  or "'su'" in repr(c)])
@pytest.mark.parametrize("offset", [0, 1])
def test_longrope_fixture_at_the_boundary(name, offset):
    """[H-FIX-1] [H-LONG-1] Phi-3/Phi-4 configs at seq_len = L and L + 1 (L = the top-level 4096) agree with
    transformers' longrope function, and switch to the long factors exactly past L."""
    config_class, config = hf_models.MODEL_CONFIGS[name]
    ours = refrope.from_hf_config(config, seq_len=4096 + offset)
    assert_agree(ours, hf_frequencies(config, seq_len=4096 + offset, config_class=config_class), name)
    short = refrope.from_hf_config(config, seq_len=None)
    assert np.array_equal(ours.inv_freq, short.inv_freq) == (offset == 0)


def test_gpt_oss_flat_rope_serves_every_layer_type():
    """[H-NEST-1] [H-FIX-1] gpt-oss has layer_types but one rope dict: asking for a listed layer type gives that
    dict, which is what GptOssRotaryEmbedding holds."""
    config_class, config = hf_models.MODEL_CONFIGS["openai/gpt-oss-20b"]
    expected = hf_module_frequencies(config, config_class)
    for layer_type in ("sliding_attention", "full_attention"):
        assert_agree(refrope.from_hf_config(config, layer_type=layer_type), expected, layer_type)
