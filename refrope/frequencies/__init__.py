"""Frequencies: the variant registry, :func:`inv_freq`, and the formulas of every variant.

================  =================================================================
module            what it holds
================  =================================================================
``base``          :class:`Frequencies`, :math:`\\omega_i = \\theta^{-2i/d}`, the convex blend
``ramps``         YaRN's correction range and pair-index ramp, Llama 3's smoothing weight
``ntk``           position interpolation and the NTK family (the β-base view)
``yarn``          YaRN, NTK-by-parts, dynamic YaRN, the YaRN magnitudes
``models``        Llama 3.1, LongRoPE, Gemma4 ``proportional``
``registry``      :class:`Param`, :class:`Variant`, :data:`VARIANTS`, :func:`inv_freq`
================  =================================================================

Spec: docs/spec/frequencies.md.
"""

from .base import Frequencies
from .registry import REQUIRED, VARIANTS, Param, Variant, inv_freq

__all__ = ["Frequencies", "REQUIRED", "Param", "Variant", "VARIANTS", "inv_freq"]
