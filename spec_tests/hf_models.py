"""Real-model fixtures: only the RoPE-relevant keys of public config.json files (the transformers config class
that loads each, and its keys). Some LongRoPE factor lists are placeholders of the right shape (:func:`_ramp`);
the cross-checks do not depend on their values."""

from __future__ import annotations


def _ramp(n: int, low: float, high: float) -> list[float]:
    """n factors rising geometrically from low to high (placeholder values: the shape of a LongRoPE list)."""
    return [round(low * (high / low) ** (i / (n - 1)), 4) for i in range(n)]


MODEL_CONFIGS: dict[str, tuple[str, dict]] = {
    # name: (the transformers config class that loads it, the config.json keys that matter for RoPE)
    "meta-llama/Llama-3.1-8B": ("LlamaConfig", {
        "model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32, "max_position_embeddings": 131072,
        "rope_theta": 500000.0, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                 "original_max_position_embeddings": 8192, "rope_type": "llama3"}}),
    "meta-llama/Llama-3.2-1B": ("LlamaConfig", {
        "model_type": "llama", "hidden_size": 2048, "num_attention_heads": 32, "head_dim": 64,
        "max_position_embeddings": 131072, "rope_theta": 500000.0,
        "rope_scaling": {"factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"}}),
    "Qwen/Qwen2.5-7B-Instruct + YaRN x4": ("Qwen2Config", {  # the model card's long-context recipe
        "model_type": "qwen2", "hidden_size": 3584, "num_attention_heads": 28, "max_position_embeddings": 32768,
        "rope_theta": 1000000.0,
        "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"}}),
    "deepseek-ai/DeepSeek-V3": ("DeepseekV3Config", {
        "model_type": "deepseek_v3", "hidden_size": 7168, "num_attention_heads": 128, "qk_rope_head_dim": 64,
        "qk_nope_head_dim": 128, "v_head_dim": 128, "max_position_embeddings": 163840, "rope_theta": 10000,
        "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                         "original_max_position_embeddings": 4096, "type": "yarn"}}),
    "openai/gpt-oss-20b": ("GptOssConfig", {
        "model_type": "gpt_oss", "hidden_size": 2880, "num_attention_heads": 64, "head_dim": 64,
        "num_hidden_layers": 24, "layer_types": ["sliding_attention", "full_attention"] * 12,
        "max_position_embeddings": 131072, "rope_theta": 150000,
        "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
                         "original_max_position_embeddings": 4096, "rope_type": "yarn", "truncate": False}}),
    "microsoft/Phi-3.5-mini-instruct": ("Phi3Config", {  # factor lists rounded to 2 decimals
        "model_type": "phi3", "hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
        "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
        "rope_scaling": {"type": "longrope", "short_factor": [
            1.0, 1.02, 1.03, 1.03, 1.05, 1.05, 1.05, 1.05, 1.05, 1.07, 1.1, 1.11, 1.16, 1.16, 1.17, 1.29, 1.34,
            1.68, 1.79, 1.82, 1.85, 1.88, 1.91, 1.94, 1.99, 2.02, 2.02, 2.02, 2.02, 2.02, 2.02, 2.03, 2.03, 2.03,
            2.03, 2.03, 2.03, 2.03, 2.03, 2.03, 2.08, 2.09, 2.19, 2.22, 2.59, 2.73, 2.75, 2.84], "long_factor": [
            1.08, 1.11, 1.14, 1.34, 1.59, 1.6, 1.62, 2.62, 3.23, 3.23, 4.79, 7.4, 7.7, 9.09, 12.2, 17.67, 24.46,
            28.57, 30.42, 30.84, 32.59, 32.93, 42.32, 44.96, 50.34, 50.45, 57.55, 57.93, 58.21, 60.14, 62.61,
            62.62, 62.71, 63.14, 63.14, 63.77, 63.93, 63.96, 63.97, 64.03, 64.07, 64.08, 64.12, 64.41, 64.48,
            64.51, 64.53, 64.84]}}),
    "microsoft/Phi-4-mini-instruct (partial 0.75)": ("Phi3Config", {  # factor values are placeholders
        "model_type": "phi3", "hidden_size": 3072, "num_attention_heads": 24, "partial_rotary_factor": 0.75,
        "max_position_embeddings": 131072, "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
        "rope_scaling": {"type": "longrope", "short_factor": _ramp(48, 1.0, 3.0),
                         "long_factor": _ramp(48, 1.0, 64.0)}}),
    "microsoft/Phi-3-mini-128k-instruct (legacy 'su')": ("Phi3Config", {  # factor values are placeholders
        "model_type": "phi3", "hidden_size": 3072, "num_attention_heads": 32, "max_position_embeddings": 131072,
        "original_max_position_embeddings": 4096, "rope_theta": 10000.0,
        # transformers 5.24 only accepts "su" when the rope dict also names L (its top-level value still wins)
        "rope_scaling": {"type": "su", "original_max_position_embeddings": 2048,
                         "short_factor": _ramp(48, 1.0, 2.5), "long_factor": _ramp(48, 1.0, 60.0)}}),
    "EleutherAI/pythia-410m": ("GPTNeoXConfig", {
        "model_type": "gpt_neox", "hidden_size": 1024, "num_attention_heads": 16, "max_position_embeddings": 2048,
        "rotary_pct": 0.25, "rotary_emb_base": 10000}),
    "google/gemma-3-4b-it (v4 text_config)": ("Gemma3TextConfig", {  # rope_theta written out (a class default)
        "model_type": "gemma3_text", "hidden_size": 2560, "num_attention_heads": 8, "head_dim": 256,
        "num_hidden_layers": 34, "sliding_window_pattern": 6, "max_position_embeddings": 131072,
        "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
        "rope_scaling": {"factor": 8.0, "rope_type": "linear"}}),
    "google/gemma-3-4b-it (v5 nested)": ("Gemma3TextConfig", {
        "model_type": "gemma3_text", "hidden_size": 2560, "num_attention_heads": 8, "head_dim": 256,
        "num_hidden_layers": 6, "layer_types": ["sliding_attention"] * 5 + ["full_attention"],
        "max_position_embeddings": 131072,
        "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}),
    "Gemma4-style (proportional, global_head_dim)": ("Gemma4TextConfig", {
        "model_type": "gemma4_text", "hidden_size": 2304, "num_attention_heads": 8, "head_dim": 256,
        "global_head_dim": 512, "num_hidden_layers": 6, "layer_types": ["sliding_attention"] * 5 + ["full_attention"],
        "max_position_embeddings": 131072,
        "rope_parameters": {"full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25,
                                               "rope_theta": 1000000.0},
                            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}),
    "Gemma4-style saved by transformers 5 (per_layer_config)": ("Gemma4TextConfig", {
        "model_type": "gemma4_text", "hidden_size": 2304, "num_attention_heads": 8, "head_dim": 256,
        "num_hidden_layers": 6, "layer_types": ["sliding_attention"] * 5 + ["full_attention"],
        "per_layer_config": {"5": {"head_dim": 512}}, "max_position_embeddings": 131072,
        "rope_parameters": {"full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25,
                                               "rope_theta": 1000000.0},
                            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}),
    "Hunyuan-style (dynamic with alpha, YaRN keys beside it)": ("HunYuanDenseV1Config", {
        "model_type": "hunyuan_v1_dense", "hidden_size": 4096, "num_attention_heads": 32, "head_dim": 128,
        "max_position_embeddings": 32768, "rope_theta": 10000.0,
        "rope_scaling": {"alpha": 1000.0, "beta_fast": 32, "beta_slow": 1, "factor": 1.0, "mscale": 1.0,
                         "mscale_all_dim": 1.0, "type": "dynamic"}}),
    "Mistral-4-style (MLA head, partial YaRN, llama_4_scaling_beta)": ("Mistral4Config", {
        "model_type": "mistral4", "hidden_size": 4096, "num_attention_heads": 32, "qk_rope_head_dim": 64,
        "qk_nope_head_dim": 64, "v_head_dim": 128, "max_position_embeddings": 1048576,
        "rope_parameters": {"type": "yarn", "rope_theta": 10000.0, "factor": 128.0,
                            "original_max_position_embeddings": 8192, "max_position_embeddings": 1048576,
                            "beta_fast": 32.0, "beta_slow": 1.0, "mscale_all_dim": 1.0, "mscale": 1.0,
                            "llama_4_scaling_beta": 0.1}}),
    "DeepSeek-V4-style (flat YaRN, compress_rope_theta)": ("DeepseekV4Config", {
        "model_type": "deepseek_v4", "hidden_size": 4096, "num_attention_heads": 64, "head_dim": 512,
        "qk_rope_head_dim": 64, "num_hidden_layers": 4, "max_position_embeddings": 1048576, "rope_theta": 10000.0,
        "compress_rope_theta": 160000.0,
        "rope_scaling": {"type": "yarn", "factor": 16.0, "original_max_position_embeddings": 65536, "beta_fast": 32,
                         "beta_slow": 1}}),
}


def layer_types_of(config: dict) -> list[str | None]:
    """The layer_type values to ask for: each per-layer entry, or None for a flat rope dict."""
    rope = config.get("rope_parameters") or {}
    entries = [key for key, value in rope.items() if isinstance(value, dict)]
    if "rope_local_base_freq" in config:
        entries = ["full_attention", "sliding_attention"]
    if config.get("model_type") == "deepseek_v4":
        entries = ["main", "compress"]
    return entries or [None]


