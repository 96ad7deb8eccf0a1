r"""refrope's frequencies as the parameters of ggml's ``ggml_rope_ext``, mapped the way llama.cpp maps a model.

``ggml_rope_ext(ctx, a, pos, freq_factors, n_dims, mode, n_ctx_orig, freq_base, freq_scale, ext_factor,
attn_factor, beta_fast, beta_slow)`` rotates pair :math:`i` of a row at position :math:`p` by

.. math:: \phi_i = \mathrm{ramp}\Big(s\,\frac{p\,b^{-2i/d}}{f_i},\ \frac{p\,b^{-2i/d}}{f_i}\Big),\qquad
          m = \texttt{attn\_factor}\cdot\big(1 + 0.1\ln(1/s)\big)^{[\texttt{ext\_factor}\ne 0]}

(:math:`b` = ``freq_base``, :math:`s` = ``freq_scale``, :math:`f` = ``freq_factors``, the ramp YaRN's between
the interpolated and the extrapolated angle, weighted by ``ext_factor``). :func:`rope_ext_params` chooses these
per variant as llama.cpp's converter and loader do:

==========================  ==================================================================================
variant                     ggml parameters
==========================  ==================================================================================
``default``                 ``freq_base`` :math:`=\theta`
``linear``                  ``freq_scale`` :math:`= 1/k` (GGUF ``rope.scaling.type = linear``)
``yarn`` (``truncate``)     ``freq_scale`` :math:`= 1/k`, ``ext_factor = 1``, ``n_ctx_orig`` :math:`= L`, the betas,
                            ``attn_factor`` :math:`= m / (1 + 0.1\ln k)` (llama.cpp cancels ggml's own factor)
``ntk_aware``, ``ntk_base``  ``freq_base`` :math:`= \theta k^{d/(d-2)}` / :math:`\theta k` (``--rope-freq-base``)
``llama3``, ``longrope``    ``freq_factors`` :math:`f_i = \theta^{-2i/d}/\omega'_i` (the converter's
                            ``rope_freqs`` / ``rope_factors_*`` tensors), ``attn_factor`` :math:`= m`
every other variant         the same baked ``freq_factors`` (ggml has no parameter for them; :math:`f_i = \infty`
                            where :math:`\omega'_i = 0`), and YaRN with ``truncate=False``, which ggml's
                            always-truncated correction range cannot express
==========================  ==================================================================================

Spec: docs/spec/conformance.md [K-ADAPT-1]; findings in docs/known_libraries.md.
Source: ggml ``src/ggml-cpu/ops.cpp`` (``rope_yarn``, ``ggml_rope_cache_init``) and ``src/ggml.c``
(``ggml_rope_yarn_corr_dims``), ggml 0.15.3 as vendored by ggml-python 0.0.45; llama.cpp
``src/llama-context.cpp`` (``yarn_attn_factor``) and ``convert_hf_to_gguf.py`` (ggml-org/llama.cpp@0024aa74).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..frequencies.base import Frequencies, rope_inv_freq

__all__ = ["RopeExtParams", "rope_ext_params"]


@dataclass(frozen=True)
class RopeExtParams:
    """The scalar and tensor arguments of one ``ggml_rope_ext`` call (``freq_factors`` None: no tensor)."""

    freq_base: float
    freq_scale: float = 1.0
    ext_factor: float = 0.0
    attn_factor: float = 1.0
    beta_fast: float = 0.0
    beta_slow: float = 0.0
    n_ctx_orig: int = 0
    freq_factors: np.ndarray | None = None


def _baked(freqs: Frequencies, theta: float) -> RopeExtParams:
    """Any frequencies as ``freq_factors`` :math:`f_i = \\theta^{-2i/d} / \\omega'_i` over base :math:`\\theta`."""
    with np.errstate(divide="ignore"):
        factors = rope_inv_freq(freqs.rotary_dim, theta) / freqs.inv_freq
    return RopeExtParams(theta, attn_factor=freqs.attention_factor, freq_factors=factors.astype(np.float32))


def _integer_length(value) -> int | None:
    """``n_ctx_orig`` is an int in ggml: L if it is a whole number in int32, else None."""
    length = float(value)
    return int(length) if length.is_integer() and 1 <= length < 2**31 else None


def rope_ext_params(freqs: Frequencies) -> RopeExtParams:
    r"""The ``ggml_rope_ext`` arguments that reproduce ``freqs`` (table above).

    ``freqs.params["theta"]`` is the base ggml raises; a :class:`refrope.Frequencies` without it (built by
    hand) gets ``ValueError``.

    >>> import refrope
    >>> p = rope_ext_params(refrope.inv_freq("yarn", 8, theta=1e4, factor=4.0, original_max_position_embeddings=64))
    >>> p.freq_scale, p.ext_factor, p.n_ctx_orig, p.freq_factors
    (0.25, 1.0, 64, None)
    >>> rope_ext_params(refrope.inv_freq("linear", 4, theta=100.0, factor=2.0)).freq_scale
    0.5
    """
    if not isinstance(freqs, Frequencies):
        raise TypeError(f"freqs must be a refrope.Frequencies, got {type(freqs).__name__}")
    if "theta" not in freqs.params:
        raise ValueError("ggml builds each frequency from freq_base: freqs.params must hold 'theta' (those of "
                         f"refrope.inv_freq, from_hf_config and from_gguf do), got {dict(freqs.params)!r}")
    theta, p, m, d = float(freqs.params["theta"]), freqs.params, freqs.attention_factor, freqs.rotary_dim
    if freqs.variant == "default":
        return RopeExtParams(theta, attn_factor=m)
    if freqs.variant == "linear":
        return RopeExtParams(theta, freq_scale=1.0 / p["factor"], attn_factor=m)
    if freqs.variant in ("ntk_aware", "ntk_base") and d > 2:
        exponent = d / (d - 2) if freqs.variant == "ntk_aware" else 1.0
        return RopeExtParams(theta * p["factor"] ** exponent, attn_factor=m)
    length = _integer_length(p["original_max_position_embeddings"]) if freqs.variant == "yarn" else None
    if freqs.variant == "yarn" and p["truncate"] and length is not None:
        k = float(p["factor"])
        return RopeExtParams(theta, freq_scale=1.0 / k, ext_factor=1.0, attn_factor=m / (1.0 + 0.1 * math.log(k)),
                             beta_fast=float(p["beta_fast"]), beta_slow=float(p["beta_slow"]), n_ctx_orig=length)
    return _baked(freqs, theta)
