"""Multimodal and vision RoPE through one N-axis rotation (docs/spec/multimodal.md, clauses ``[MM-*]``).

* :func:`apply_rope_nd` (:mod:`~refrope.multimodal.nd`): pair ``i`` turns by ``positions[axes[i]] * inv_freq[i]``;
* :func:`mrope_axes`, :func:`apply_mrope` (:mod:`~refrope.multimodal.mrope`): Qwen2/2.5/3-VL M-RoPE;
* :func:`mrope_positions` (:mod:`~refrope.multimodal.positions`): their ``(t, h, w)`` position ids;
* :func:`vision_rope`, :func:`apply_vision_rope` (:mod:`~refrope.multimodal.vision`): Qwen2-VL, Pixtral and
  Llama 4 vision towers;
* :data:`ENGINE_TABLES`, :func:`engine_axes`, :func:`engine_freqs` (:mod:`~refrope.multimodal.engines`): the
  tables of ggml, vLLM and rotary-embedding-torch.
"""

from .engines import ENGINE_TABLES, EngineTable, engine_axes, engine_freqs
from .mrope import MODES, apply_mrope, mrope_axes
from .nd import apply_rope_nd
from .positions import mrope_positions
from .vision import VISION_KINDS, VisionRope, apply_vision_rope, vision_rope

__all__ = ["apply_rope_nd", "mrope_axes", "apply_mrope", "MODES", "mrope_positions", "vision_rope",
           "apply_vision_rope", "VisionRope", "VISION_KINDS", "ENGINE_TABLES", "EngineTable", "engine_axes",
           "engine_freqs"]
