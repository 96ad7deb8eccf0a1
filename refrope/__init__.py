"""refrope: a float64 NumPy oracle for rotary position embeddings (RoPE) and their variants.

Public API (names are a contract):

* frequencies: :func:`inv_freq`, :class:`Frequencies`, :data:`VARIANTS`
* rotation: :func:`apply_rope`, :func:`cos_sin`, :func:`rotation_matrix`, :data:`LAYOUTS`
* model configs: :func:`from_hf_config`, :func:`hf_query_scale`, :func:`from_gguf`
* YaRN magnitudes: :func:`get_mscale`, :func:`deepseek_softmax_factor`
* the β-base view: :mod:`refrope.beta`
* attention: :func:`attention`, :func:`attention_scores`, :func:`attention_probs`,
  :class:`KVCache`, :func:`decode_attention`, :func:`relative_positions`, :mod:`refrope.relpos`,
  :mod:`refrope.query_scale`
* gradients: :func:`apply_rope_vjp`, :func:`attention_vjp`
* multimodal and vision RoPE: :func:`apply_rope_nd`, :func:`mrope_axes`, :func:`apply_mrope`,
  :func:`mrope_positions`, :func:`vision_rope`, :func:`apply_vision_rope`, :mod:`refrope.multimodal`
* the articles' other schemes: :mod:`refrope.bias` (ALiBi, KERPLE, Sandwich), :func:`xpos_scale`,
  :func:`apply_xpos`, :mod:`refrope.positions` (randomized positions), :mod:`refrope.hwfa`, and
  :func:`dual_chunk_attention`
"""

from . import _aliases, beta, bias, hwfa, multimodal, positions, query_scale, relpos
from ._attention.api import KVCache, attention, attention_probs, attention_scores, decode_attention
from .configs.gguf import from_gguf
from .configs.hf import from_hf_config, hf_query_scale
from .dual_chunk import dual_chunk_attention
from .frequencies.base import Frequencies
from .frequencies.registry import VARIANTS, Param, Variant, inv_freq
from .frequencies.yarn import deepseek_softmax_factor, get_mscale
from .gradients import apply_rope_vjp, attention_vjp
from .layouts import LAYOUTS, interleave_permutation
from .multimodal import apply_mrope, apply_rope_nd, apply_vision_rope, mrope_axes, mrope_positions, vision_rope
from .relpos import relative_positions
from .rotary import apply_rope, cos_sin, rotation_matrix
from .xpos import apply_xpos, xpos_scale

__version__ = "0.1.0"

_aliases.install()

__all__ = [
    "Frequencies",
    "VARIANTS",
    "Param",
    "Variant",
    "inv_freq",
    "apply_rope",
    "cos_sin",
    "rotation_matrix",
    "LAYOUTS",
    "interleave_permutation",
    "from_hf_config",
    "from_gguf",
    "hf_query_scale",
    "get_mscale",
    "deepseek_softmax_factor",
    "beta",
    "relpos",
    "query_scale",
    "relative_positions",
    "attention",
    "attention_scores",
    "attention_probs",
    "decode_attention",
    "KVCache",
    "apply_rope_vjp",
    "attention_vjp",
    "multimodal",
    "apply_rope_nd",
    "mrope_axes",
    "apply_mrope",
    "mrope_positions",
    "vision_rope",
    "apply_vision_rope",
    "bias",
    "positions",
    "hwfa",
    "xpos_scale",
    "apply_xpos",
    "dual_chunk_attention",
]
