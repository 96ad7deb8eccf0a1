"""The variant registry and :func:`inv_freq`, the one entry point for frequencies.

A variant is one :class:`~refrope.frequencies.params.Variant` entry in :data:`VARIANTS` (its function,
its documented parameters with their defaults and checks, its spec clause and source, its transformers
rope type, its parameter draw, its β-base radices and its ramp's error, where it has them) plus its
clause in docs/spec/frequencies.md and its tests. Every other table (the strategies of the spec suite,
the golden vectors' clauses, :data:`refrope.beta.RADIX_VARIANTS`, the budget's blend term, the
``from_hf_config`` map, the adapters' capabilities) is derived from this one; docs/contributing.md
lists the steps.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from .._validation import check_int, check_real
from ..precision.namespaces import EXACT, FAST, check_precision
from . import draws
from . import models as freq_models
from . import ntk as freq_ntk
from . import yarn as freq_yarn
from .base import Frequencies
from .params import (
    REQUIRED,
    Param,
    Variant,
    above_one,
    boolean,
    count,
    positive,
    real,
    real_at_least_one,
    unchecked,
    unit_interval,
)

__all__ = ["REQUIRED", "Param", "Variant", "VARIANTS", "inv_freq", "evaluate"]


def _p(name: str, default: Any, meaning: str, source: str = "transformers", check=unchecked) -> Param:
    return Param(name, default, meaning, source, check)


_FACTOR = _p("factor", REQUIRED, "extension factor k >= 1", check=real_at_least_one)
_ORIG = _p("original_max_position_embeddings", REQUIRED, "L, the pre-training context length", check=positive)
_SEQ = _p("seq_len", REQUIRED, "the current (largest seen) sequence length; the oracle is stateless", check=count)
_YARN = "jquesnelle/yarn"

_ENTRIES = (
    Variant("default", freq_ntk.default, (), "F-DEFAULT-1", "RoFormer arXiv:2104.09864; kexue.fm/archives/8265",
            "omega_i = theta^(-2i/d)", hf_type="default", family="rope", radices=freq_ntk.RADICES["default"]),
    Variant("linear", freq_ntk.linear, (_FACTOR,), "F-LINEAR-1", "PI arXiv:2306.15595; HF linear",
            "position interpolation: omega_i / k", lambda d: {"factor": 1.0}, hf_type="linear", family="pi",
            radices=freq_ntk.RADICES["linear"], draw=draws.factor_only),
    Variant("ntk_aware", freq_ntk.ntk_aware, (_FACTOR,), "F-NTKAWARE-1", "bloc97 NTK-aware; kexue.fm/archives/9675",
            "base theta * k^(d/(d-2))", lambda d: {"factor": 1.0}, family="ntk", config_types=("dynamic",),
            config_key="alpha",
            radices=freq_ntk.RADICES["ntk_aware"], draw=draws.factor_only),
    Variant("ntk_base", freq_ntk.ntk_base, (_FACTOR,), "F-NTKBASE-1", "kexue.fm/archives/9675 (NTK-RoPE-old)",
            "base theta * k", lambda d: {"factor": 1.0}, family="ntk", radices=freq_ntk.RADICES["ntk_base"],
            draw=draws.factor_only),
    Variant("ntk_fixed", freq_ntk.ntk_fixed, (_FACTOR,), "F-NTKFIXED-1", "kexue.fm/archives/9706 eq. 6",
            "omega_m = beta^-(m-1) lambda^-m, lambda = k^(2/d)", lambda d: {"factor": 1.0}, family="ntk",
            config_types=("ntk",),
            radices=freq_ntk.RADICES["ntk_fixed"], draw=draws.factor_only),
    Variant("ntk_mixed", freq_ntk.ntk_mixed,
            (_FACTOR, _p("b", 0.625, "exponent of the radix family exp(a m^b), 0 <= b <= 1", "kexue.fm/archives/9706",
                         check=unit_interval)),
            "F-NTKMIXED-1", "kexue.fm/archives/9706 eq. 10-13; bojone/rerope ntk_patch.py",
            "omega_m = beta^-(m-1) exp(-a m^b), a = ln k / (d/2)^b", lambda d: {"factor": 1.0}, family="ntk",
            config_types=("ntk",), config_key="mixed_b",
            radices=freq_ntk.RADICES["ntk_mixed"], draw=draws.ntk_mixed),
    Variant("mixed_radix", freq_ntk.mixed_radix,
            (_p("radices", REQUIRED, "lambda_1..lambda_{d/2}: non-increasing, >= 1", "kexue.fm/archives/9706"),
             _p("factor", None, "optional check: the product of the radices", check=real_at_least_one)),
            "F-MIXEDRADIX-1", "kexue.fm/archives/9706 eq. 10-11",
            "omega_m = beta^-(m-1) / (lambda_1...lambda_m)", lambda d: {"radices": [1.0] * (d // 2)}, family="ntk",
            radices=freq_ntk.RADICES["mixed_radix"], draw=draws.mixed_radix),
    Variant("dynamic_ntk", freq_ntk.dynamic_ntk, (_FACTOR, _ORIG, _SEQ), "F-DYN-1",
            "emozilla/bloc97 dynamic NTK; HF dynamic", "NTK base from (k s / L - (k - 1)), s = max(seq_len, L)",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 4096, "seq_len": 4096}, dynamic=True,
            hf_type="dynamic", family="dynamic_ntk", draw=draws.dynamic_ntk),
    Variant("ntk_by_parts", freq_yarn.ntk_by_parts,
            (_FACTOR, _ORIG,
             _p("ntk_factor", 1.0, "weight of the NTK part in the first blend, in [0, 1]", _YARN, unit_interval),
             _p("extrapolation_factor", 1.0, "weight of the extrapolated part in the second blend", _YARN,
                unit_interval),
             _p("beta_0", 1.25, "rotations bounding the linear/NTK ramp (fast side)", _YARN, positive),
             _p("beta_1", 0.75, "rotations bounding the linear/NTK ramp (slow side)", _YARN, positive),
             _p("gamma_0", 16.0, "rotations bounding the NTK/RoPE ramp (fast side)", _YARN, positive),
             _p("gamma_1", 2.0, "rotations bounding the NTK/RoPE ramp (slow side)", _YARN, positive)),
            "F-PARTS-1", "jquesnelle/yarn LlamaPartNTKScaledRotaryEmbedding.py",
            "linear, NTK-aware and RoPE blended by two pair-index ramps",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 2048}, family="yarn",
            draw=draws.ntk_by_parts, blend_error=freq_yarn.ntk_by_parts_blend_error),
    Variant("dynamic_yarn", freq_yarn.dynamic_yarn,
            (_ORIG, _SEQ,
             _p("max_position_embeddings", None, "M: length below which RoPE (or finetuned YaRN) is used; default L",
                _YARN, positive),
             _p("beta_fast", 32.0, "rotations at the extrapolation edge of the ramp", _YARN, positive),
             _p("beta_slow", 1.0, "rotations at the interpolation edge of the ramp", _YARN, positive),
             _p("extrapolation_factor", 1.0, "weight of the extrapolated part, in [0, 1]", _YARN, unit_interval),
             _p("attn_factor", 1.0, "multiplies get_mscale(s) (it does not replace it)", _YARN, positive),
             _p("finetuned", False, "use YaRN at s = M / L before the length exceeds M", _YARN, boolean)),
            "F-DYNYARN-1", "jquesnelle/yarn LlamaDynamicYaRNScaledRotaryEmbedding.py",
            "YaRN at s = seq_len / L once seq_len > M",
            lambda d: {"original_max_position_embeddings": 2048, "seq_len": 2048}, dynamic=True, family="yarn",
            draw=draws.dynamic_yarn, blend_error=freq_yarn.dynamic_yarn_blend_error),
    Variant("yarn", freq_yarn.yarn,
            (_FACTOR, _ORIG,
             _p("beta_fast", 32.0, "rotations at the extrapolation edge of the ramp (paper beta)", check=positive),
             _p("beta_slow", 1.0, "rotations at the interpolation edge of the ramp (paper alpha)", check=positive),
             _p("mscale", None, "numerator coefficient of the magnitude ratio (DeepSeek)", check=real),
             _p("mscale_all_dim", None, "denominator coefficient of the magnitude ratio (DeepSeek)", check=real),
             _p("attention_factor", None, "explicit magnitude; replaces the computed one", check=positive),
             _p("truncate", True, "floor/ceil the correction range (False: gpt-oss)", check=boolean)),
            "F-YARN-1", "YaRN arXiv:2309.00071; HF yarn (5.24)",
            "pair-index ramp between omega/k and omega, magnitude 0.1 ln k + 1",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 4096}, hf_type="yarn", family="yarn",
            config_types=("deepseek_yarn", "deepseek_llama_scaling", "telechat3-yarn"),
            draw=draws.yarn, blend_error=freq_yarn.yarn_blend_error),
    Variant("llama3", freq_models.llama3,
            (_FACTOR, _ORIG,
             _p("low_freq_factor", REQUIRED, "L / low_freq_factor bounds the interpolated band", check=positive),
             _p("high_freq_factor", REQUIRED, "L / high_freq_factor bounds the kept band (> low_freq_factor)",
                check=positive)),
            "F-LLAMA3-1", "Meta Llama 3.1; HF llama3", "by wavelength: keep, smooth, or divide by k",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 8192,
                       "low_freq_factor": 1.0, "high_freq_factor": 4.0}, hf_type="llama3", family="llama3",
            draw=draws.llama3, blend_error=freq_models.llama3_blend_error),
    Variant("longrope", freq_models.longrope,
            (_p("short_factor", REQUIRED, "d/2 rescale factors used while seq_len <= L"),
             _p("long_factor", REQUIRED, "d/2 rescale factors used when seq_len > L"),
             _p("original_max_position_embeddings", REQUIRED, "L, the pre-training context length (> 1)",
                check=above_one),
             _p("factor", None, "k for the default magnitude sqrt(1 + ln k / ln L); needed unless attention_factor",
                check=real_at_least_one),
             _p("attention_factor", None, "explicit magnitude; replaces the computed one", check=positive),
             _p("seq_len", None, "selects long iff seq_len > L (None: short, as at initialisation)", check=count)),
            "F-LONGROPE-1", "LongRoPE arXiv:2402.13753; HF longrope; vLLM Phi3LongRoPE",
            "omega_i / ext_i with ext = long if seq_len > L else short",
            lambda d: {"short_factor": [1.0] * (d // 2), "long_factor": [1.0] * (d // 2),
                       "original_max_position_embeddings": 4096, "factor": 1.0}, dynamic=True,
            hf_type="longrope", family="longrope", draw=draws.longrope),
    Variant("proportional", freq_models.proportional,
            (_p("partial_rotary_factor", 1.0, "fraction rho of the head's pairs that rotate; the rest get omega = 0",
                check=unit_interval),
             _p("factor", 1.0, "divides every frequency (k >= 1)", check=real_at_least_one)),
            "F-PROP-1", "Gemma4; HF proportional; vLLM Gemma4RotaryEmbedding",
            "omega_i = theta^(-2i/D) / k for i < floor(rho D / 2), else 0",
            lambda d: {"partial_rotary_factor": 1.0, "factor": 1.0}, hf_type="proportional", family="proportional",
            draw=draws.proportional),
)

VARIANTS: Mapping[str, Variant] = MappingProxyType({v.name: v for v in _ENTRIES})
"""Every frequency variant by name (function, documented parameters, clause, source)."""


def inv_freq(variant: str, rotary_dim: int, *, theta: float = 10000.0, precision: str = "fast",
             **params: Any) -> Frequencies:
    r"""Inverse frequencies :math:`\omega_i` and magnitude of a RoPE variant, in float64.

    Parameters
    ----------
    variant : str
        A key of :data:`VARIANTS` (``"default"``, ``"linear"``, ``"yarn"``, ...).
    rotary_dim : int
        :math:`d`, the number of rotated coordinates (even, >= 2). For ``"proportional"`` it is the head dimension.
    theta : float
        :math:`\theta`, the RoPE base (``rope_theta``), finite and > 0.
    precision : {"fast", "exact"}
        ``"fast"`` (the default) evaluates the formula in float64, within the bound of [N-FAST-1];
        ``"exact"`` evaluates it in triple-double (about 150 bits) and rounds each :math:`\omega_i` once, so it
        is within half an ulp (plus :math:`2^{-90}` ulp) of the exact value [P-EXACT-2]. Either way the
        magnitude is the float64 one.
    **params
        The variant's parameters, named as in :data:`VARIANTS` (transformers' names where it has the concept).

    Returns
    -------
    Frequencies
        ``inv_freq`` of shape ``(rotary_dim // 2,)`` and ``attention_factor``.

    Notes
    -----
    Unknown or missing parameters raise ``TypeError``; bad values (and an unknown ``precision``) raise
    ``ValueError``. Spec: [F-FREQ-1], [F-FREQ-2], [P-EXACT-2], and the clause of each variant. Source: see
    ``VARIANTS[variant].source``.

    Examples
    --------
    >>> inv_freq("default", 4, theta=100.0).inv_freq
    array([1. , 0.1])
    >>> inv_freq("linear", 4, theta=100.0, factor=2.0).inv_freq
    array([0.5 , 0.05])
    >>> inv_freq("default", 96, theta=10000.0, precision="exact").inv_freq[1].hex()  # 10000^(-2/96), rounded once
    '0x1.a69b609b6a52fp-1'
    """
    xp = EXACT if check_precision(precision) == "exact" else FAST
    omega, magnitude, resolved, theta = evaluate(variant, rotary_dim, theta, params, xp)
    return Frequencies(xp.to_float(omega), magnitude, variant, {"theta": theta, **resolved})


def evaluate(variant: str, rotary_dim: int, theta: float, params: Mapping[str, Any], xp: Any = FAST):
    """``(omega, magnitude, resolved_params, theta)``: a variant's formula evaluated in the arithmetic ``xp``
    (:mod:`refrope.precision.namespaces`) after every check of :func:`inv_freq`; ``omega`` is in ``xp``'s number
    type. The one place a variant function is called."""
    if not isinstance(variant, str):
        raise TypeError(f"variant must be a string, one of {sorted(VARIANTS)}, got {variant!r}")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    spec = VARIANTS[variant]
    rotary_dim = check_int("rotary_dim", rotary_dim, minimum=2, even=True)
    theta = check_real("theta", theta, minimum=0.0, strict_minimum=True)
    checked = spec.checked(params)
    resolved = {p.name: params.get(p.name, p.default) for p in spec.params}  # as given (recorded in params)
    with np.errstate(over="ignore", under="ignore"):  # extreme but finite inputs: judged on the result below
        if xp is FAST:
            omega, magnitude = spec.function(rotary_dim, theta, **checked)
        elif "xp" not in inspect.signature(spec.function).parameters:
            raise ValueError(f"variant {variant!r} has no exact evaluation: its function takes no xp argument "
                             f"(docs/contributing.md: write the formula against xp)")
        else:
            omega, magnitude = spec.function(rotary_dim, theta, xp=xp, **checked)
        rounded = xp.to_float(omega)
    if not (np.all(np.isfinite(rounded)) and np.isfinite(magnitude)):
        raise ValueError(f"variant {variant!r} with theta={theta} and {resolved} gives non-finite inverse "
                         f"frequencies or magnitude (overflow: theta or a factor is too extreme for float64)")
    return omega, magnitude, resolved, theta
