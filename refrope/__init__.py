"""refrope: a float64 NumPy oracle for rotary position embeddings (RoPE) and their variants.

Public API (names are a contract):

* frequencies: :func:`inv_freq`, :class:`Frequencies`, :data:`VARIANTS`
* rotation: :func:`apply_rope`, :func:`cos_sin`, :func:`rotation_matrix`, :data:`LAYOUTS`
* model configs: :func:`from_hf_config`
* YaRN magnitudes: :func:`get_mscale`, :func:`deepseek_softmax_factor`
* the β-base view: :mod:`refrope.beta`
"""

from . import beta
from .freq_base import Frequencies
from .freq_yarn import deepseek_softmax_factor, get_mscale
from .frequencies import VARIANTS, Param, Variant, inv_freq
from .layouts import LAYOUTS, interleave_permutation
from .rotary import apply_rope, cos_sin, rotation_matrix

__version__ = "0.1.0"

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
    "get_mscale",
    "deepseek_softmax_factor",
    "beta",
]
