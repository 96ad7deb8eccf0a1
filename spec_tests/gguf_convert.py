"""The RoPE part of llama.cpp's HF-to-GGUF converter, transcribed for the GGUF round trips (spec_tests/test_gguf.py).

Transcribed from ggml-org/llama.cpp ``convert_hf_to_gguf.py`` at 0024aa74 (``TextModel.__init__`` and
``TextModel.set_gguf_parameters``) and its ``conversion/`` modules of the same tree: ``llama.py``
(``LlamaModel.set_gguf_parameters``, ``LlamaModel.generate_extra_tensors``: the llama3 ``rope_freqs`` tensor,
computed in torch float32) and ``phi.py`` (``Phi3MiniModel``: LongRoPE's ``rope_factors_long/short`` and
``rope.scaling.attn_factor``; it does not call the generic parameters, so no ``rope.scaling.type``).
gpt-oss (``gpt_oss.py``) and Qwen2 (``qwen.py``) use the generic parameters, which drop YaRN's ``truncate``.
Only the keys and tensors llama.cpp's rope reads are written.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

ARCH = {"llama": "llama", "qwen2": "qwen2", "gpt_oss": "gpt-oss", "phi3": "phi3"}


def _generic(writer, gguf, hparams: dict) -> None:
    """``TextModel.__init__`` (rope_parameters, rope_theta and rope_type mirrored) and ``set_gguf_parameters``."""
    rope = dict(hparams.get("rope_parameters", hparams.get("rope_scaling")) or {})
    if "rope_theta" not in rope and (theta := hparams.get("rope_theta")) is not None:
        rope["rope_theta"] = theta
    if "rope_type" not in rope and (kind := rope.get("type")) is not None:
        rope["rope_type"] = kind
    writer.add_context_length(hparams["max_position_embeddings"])
    writer.add_embedding_length(hparams["hidden_size"])
    writer.add_head_count(hparams["num_attention_heads"])
    if (kind := rope.get("rope_type")) is not None:
        factor = rope.get("factor")
        if kind == "linear" and factor is not None:
            writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            writer.add_rope_scaling_factor(factor)
        elif kind == "yarn" and factor is not None:
            writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
            writer.add_rope_scaling_factor(factor)
            writer.add_rope_scaling_orig_ctx_len(rope["original_max_position_embeddings"])
            if (ext := rope.get("extrapolation_factor")) is not None:
                writer.add_rope_scaling_yarn_ext_factor(ext)
            if (attn := rope.get("attention_factor", rope.get("attn_factor"))) is not None:
                writer.add_rope_scaling_yarn_attn_factor(attn)
            if (fast := rope.get("beta_fast")) is not None:
                writer.add_rope_scaling_yarn_beta_fast(fast)
            if (slow := rope.get("beta_slow")) is not None:
                writer.add_rope_scaling_yarn_beta_slow(slow)
        elif kind in ("su", "longrope"):
            writer.add_rope_scaling_type(gguf.RopeScalingType.LONGROPE)
    if (theta := rope.get("rope_theta")) is not None:
        writer.add_rope_freq_base(theta)
    if (head_dim := hparams.get("head_dim")) is not None:
        writer.add_key_length(head_dim)


def _llama3_factors(hparams: dict) -> np.ndarray | None:
    """``LlamaModel.generate_extra_tensors``: the ``rope_freqs`` factors, in torch float32 as the converter."""
    import torch

    rope = hparams.get("rope_scaling") or {}
    if rope.get("rope_type", "").lower() != "llama3":
        return None
    base = hparams.get("rope_theta", 10000.0)
    dim = hparams.get("head_dim") or hparams["hidden_size"] // hparams["num_attention_heads"]
    freqs = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    factor = rope.get("factor", 8.0)
    low_freq_factor, high_freq_factor = rope.get("low_freq_factor", 1.0), rope.get("high_freq_factor", 4.0)
    old_context_len = hparams.get("original_max_position_embeddings", 8192)  # top level, as the converter reads
    low_freq_wavelen, high_freq_wavelen = old_context_len / low_freq_factor, old_context_len / high_freq_factor
    rope_factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_freq_wavelen:
            rope_factors.append(1)
        elif wavelen > low_freq_wavelen:
            rope_factors.append(factor)
        else:
            smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
            rope_factors.append(1 / ((1 - smooth) / factor + smooth))
    return torch.tensor(rope_factors, dtype=torch.float32).numpy()


def _phi3(writer, hparams: dict) -> None:
    """``Phi3MiniModel.set_gguf_parameters`` and ``generate_extra_tensors`` (RoPE keys and tensors)."""
    n_embd, n_head = hparams["hidden_size"], hparams["num_attention_heads"]
    max_pos, orig = hparams["max_position_embeddings"], hparams["original_max_position_embeddings"]
    rope_dims = int(hparams.get("partial_rotary_factor", 1.0) * n_embd) // n_head
    writer.add_context_length(max_pos)
    writer.add_rope_scaling_orig_ctx_len(orig)
    writer.add_embedding_length(n_embd)
    writer.add_head_count(n_head)
    writer.add_rope_dimension_count(rope_dims)
    writer.add_rope_freq_base(hparams["rope_theta"])
    rope = hparams.get("rope_scaling")
    if rope is None:
        return
    scale = max_pos / orig
    kind = rope.get("rope_type", rope.get("type", "")).lower()
    assert kind in ("su", "longrope"), kind
    writer.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(scale) / math.log(orig)) if scale > 1.0 else 1.0)
    writer.add_tensor("rope_factors_long.weight", np.asarray(rope["long_factor"], dtype=np.float32))
    writer.add_tensor("rope_factors_short.weight", np.asarray(rope["short_factor"], dtype=np.float32))


def convert(hparams: dict, path: Path) -> Path:
    """Write the GGUF file llama.cpp's converter writes for ``hparams`` (its RoPE keys and tensors) to ``path``."""
    import gguf

    writer = gguf.GGUFWriter(str(path), ARCH[hparams["model_type"]])
    if hparams["model_type"] == "phi3":
        _phi3(writer, hparams)
    else:
        _generic(writer, gguf, hparams)
        if hparams["model_type"] == "llama":
            head = hparams.get("head_dim") or hparams["hidden_size"] // hparams["num_attention_heads"]
            writer.add_rope_dimension_count(head)
            if (factors := _llama3_factors(hparams)) is not None:
                writer.add_tensor("rope_freqs.weight", factors)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
