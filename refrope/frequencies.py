"""The variant registry and :func:`inv_freq`, the one entry point for frequencies.

A variant is one :class:`Variant` entry in :data:`VARIANTS` (its function, its
documented parameters, its spec clause and source) plus its clause in
docs/spec/frequencies.md. Nothing else needs to change to add one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from . import freq_models, freq_ntk, freq_yarn
from ._validation import check_int, check_real
from .freq_base import Frequencies

__all__ = ["REQUIRED", "Param", "Variant", "VARIANTS", "inv_freq"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Sentinel default of a parameter that must be passed."""


@dataclass(frozen=True)
class Param:
    """One documented parameter of a variant: its name, default (or :data:`REQUIRED`), meaning, source."""

    name: str
    default: Any
    meaning: str
    source: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Variant:
    """A registry entry: the function ``(rotary_dim, theta, **params) -> (inv_freq, attention_factor)``,
    its parameters, the spec clause it implements, its source, and ``neutral(rotary_dim)``: parameters
    for which the variant reduces to ``default`` exactly ([F-ALL-1])."""

    name: str
    function: Callable[..., tuple[np.ndarray, float]]
    params: tuple[Param, ...]
    clause: str
    source: str
    summary: str
    neutral: Callable[[int], dict] = field(default=lambda d: {})
    dynamic: bool = False

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)


def _p(name: str, default: Any, meaning: str, source: str = "transformers") -> Param:
    return Param(name, default, meaning, source)


_FACTOR = _p("factor", REQUIRED, "extension factor k >= 1")
_ORIG = _p("original_max_position_embeddings", REQUIRED, "L, the pre-training context length")
_SEQ = _p("seq_len", REQUIRED, "the current (largest seen) sequence length; the oracle is stateless")

_ENTRIES = (
    Variant("default", freq_ntk.default, (), "F-DEFAULT-1", "RoFormer arXiv:2104.09864; kexue.fm/archives/8265",
            "omega_i = theta^(-2i/d)"),
    Variant("linear", freq_ntk.linear, (_FACTOR,), "F-LINEAR-1", "PI arXiv:2306.15595; HF linear",
            "position interpolation: omega_i / k", lambda d: {"factor": 1.0}),
    Variant("ntk_aware", freq_ntk.ntk_aware, (_FACTOR,), "F-NTKAWARE-1", "bloc97 NTK-aware; kexue.fm/archives/9675",
            "base theta * k^(d/(d-2))", lambda d: {"factor": 1.0}),
    Variant("ntk_base", freq_ntk.ntk_base, (_FACTOR,), "F-NTKBASE-1", "kexue.fm/archives/9675 (NTK-RoPE-old)",
            "base theta * k", lambda d: {"factor": 1.0}),
    Variant("ntk_fixed", freq_ntk.ntk_fixed, (_FACTOR,), "F-NTKFIXED-1", "kexue.fm/archives/9706 eq. 6",
            "omega_m = beta^-(m-1) lambda^-m, lambda = k^(2/d)", lambda d: {"factor": 1.0}),
    Variant("ntk_mixed", freq_ntk.ntk_mixed,
            (_FACTOR, _p("b", 0.625, "exponent of the radix family exp(a m^b), 0 <= b <= 1", "kexue.fm/archives/9706")),
            "F-NTKMIXED-1", "kexue.fm/archives/9706 eq. 10-13; bojone/rerope ntk_patch.py",
            "omega_m = beta^-(m-1) exp(-a m^b), a = ln k / (d/2)^b", lambda d: {"factor": 1.0}),
    Variant("mixed_radix", freq_ntk.mixed_radix,
            (_p("radices", REQUIRED, "lambda_1..lambda_{d/2}: non-increasing, >= 1", "kexue.fm/archives/9706"),
             _p("factor", None, "optional check: the product of the radices")),
            "F-MIXEDRADIX-1", "kexue.fm/archives/9706 eq. 10-11",
            "omega_m = beta^-(m-1) / (lambda_1...lambda_m)", lambda d: {"radices": [1.0] * (d // 2)}),
    Variant("dynamic_ntk", freq_ntk.dynamic_ntk, (_FACTOR, _ORIG, _SEQ), "F-DYN-1",
            "emozilla/bloc97 dynamic NTK; HF dynamic", "NTK base from (k s / L - (k - 1)), s = max(seq_len, L)",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 4096, "seq_len": 4096}, dynamic=True),
    Variant("ntk_by_parts", freq_yarn.ntk_by_parts,
            (_FACTOR, _ORIG,
             _p("ntk_factor", 1.0, "weight of the NTK part in the first blend, in [0, 1]", "jquesnelle/yarn"),
             _p("extrapolation_factor", 1.0, "weight of the extrapolated part in the second blend", "jquesnelle/yarn"),
             _p("beta_0", 1.25, "rotations bounding the linear/NTK ramp (fast side)", "jquesnelle/yarn"),
             _p("beta_1", 0.75, "rotations bounding the linear/NTK ramp (slow side)", "jquesnelle/yarn"),
             _p("gamma_0", 16.0, "rotations bounding the NTK/RoPE ramp (fast side)", "jquesnelle/yarn"),
             _p("gamma_1", 2.0, "rotations bounding the NTK/RoPE ramp (slow side)", "jquesnelle/yarn")),
            "F-PARTS-1", "jquesnelle/yarn LlamaPartNTKScaledRotaryEmbedding.py",
            "linear, NTK-aware and RoPE blended by two pair-index ramps",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 2048}),
    Variant("dynamic_yarn", freq_yarn.dynamic_yarn,
            (_ORIG, _SEQ,
             _p("max_position_embeddings", None, "M: length below which RoPE (or finetuned YaRN) is used; default L",
                "jquesnelle/yarn"),
             _p("beta_fast", 32.0, "rotations at the extrapolation edge of the ramp", "jquesnelle/yarn"),
             _p("beta_slow", 1.0, "rotations at the interpolation edge of the ramp", "jquesnelle/yarn"),
             _p("extrapolation_factor", 1.0, "weight of the extrapolated part, in [0, 1]", "jquesnelle/yarn"),
             _p("attn_factor", 1.0, "multiplies get_mscale(s) (it does not replace it)", "jquesnelle/yarn"),
             _p("finetuned", False, "use YaRN at s = M / L before the length exceeds M", "jquesnelle/yarn")),
            "F-DYNYARN-1", "jquesnelle/yarn LlamaDynamicYaRNScaledRotaryEmbedding.py",
            "YaRN at s = seq_len / L once seq_len > M",
            lambda d: {"original_max_position_embeddings": 2048, "seq_len": 2048}, dynamic=True),
    Variant("yarn", freq_yarn.yarn,
            (_FACTOR, _ORIG,
             _p("beta_fast", 32.0, "rotations at the extrapolation edge of the ramp (paper beta)"),
             _p("beta_slow", 1.0, "rotations at the interpolation edge of the ramp (paper alpha)"),
             _p("mscale", None, "numerator coefficient of the magnitude ratio (DeepSeek)"),
             _p("mscale_all_dim", None, "denominator coefficient of the magnitude ratio (DeepSeek)"),
             _p("attention_factor", None, "explicit magnitude; replaces the computed one"),
             _p("truncate", True, "floor/ceil the correction range (False: gpt-oss)")),
            "F-YARN-1", "YaRN arXiv:2309.00071; HF yarn (5.24)",
            "pair-index ramp between omega/k and omega, magnitude 0.1 ln k + 1",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 4096}),
    Variant("llama3", freq_models.llama3,
            (_FACTOR, _ORIG, _p("low_freq_factor", REQUIRED, "L / low_freq_factor bounds the interpolated band"),
             _p("high_freq_factor", REQUIRED, "L / high_freq_factor bounds the kept band (> low_freq_factor)")),
            "F-LLAMA3-1", "Meta Llama 3.1; HF llama3", "by wavelength: keep, smooth, or divide by k",
            lambda d: {"factor": 1.0, "original_max_position_embeddings": 8192,
                       "low_freq_factor": 1.0, "high_freq_factor": 4.0}),
    Variant("longrope", freq_models.longrope,
            (_p("short_factor", REQUIRED, "d/2 rescale factors used while seq_len <= L"),
             _p("long_factor", REQUIRED, "d/2 rescale factors used when seq_len > L"),
             _ORIG,
             _p("factor", None, "k for the default magnitude sqrt(1 + ln k / ln L); needed unless attention_factor"),
             _p("attention_factor", None, "explicit magnitude; replaces the computed one"),
             _p("seq_len", None, "selects long iff seq_len > L (None: short, as at initialisation)")),
            "F-LONGROPE-1", "LongRoPE arXiv:2402.13753; HF longrope; vLLM Phi3LongRoPE",
            "omega_i / ext_i with ext = long if seq_len > L else short",
            lambda d: {"short_factor": [1.0] * (d // 2), "long_factor": [1.0] * (d // 2),
                       "original_max_position_embeddings": 4096, "factor": 1.0}, dynamic=True),
    Variant("proportional", freq_models.proportional,
            (_p("partial_rotary_factor", 1.0, "fraction rho of the head's pairs that rotate; the rest get omega = 0"),
             _p("factor", 1.0, "divides every frequency (k >= 1)")),
            "F-PROP-1", "Gemma4; HF proportional; vLLM Gemma4RotaryEmbedding",
            "omega_i = theta^(-2i/D) / k for i < floor(rho D / 2), else 0",
            lambda d: {"partial_rotary_factor": 1.0, "factor": 1.0}),
)

VARIANTS: Mapping[str, Variant] = MappingProxyType({v.name: v for v in _ENTRIES})
"""Every frequency variant by name (function, documented parameters, clause, source)."""


def inv_freq(variant: str, rotary_dim: int, *, theta: float = 10000.0, **params: Any) -> Frequencies:
    r"""Inverse frequencies :math:`\omega_i` and magnitude of a RoPE variant, in float64.

    Parameters
    ----------
    variant : str
        A key of :data:`VARIANTS` (``"default"``, ``"linear"``, ``"yarn"``, ...).
    rotary_dim : int
        :math:`d`, the number of rotated coordinates (even, >= 2). For ``"proportional"`` it is the head dimension.
    theta : float
        :math:`\theta`, the RoPE base (``rope_theta``), finite and > 0.
    **params
        The variant's parameters, named as in :data:`VARIANTS` (transformers' names where it has the concept).

    Returns
    -------
    Frequencies
        ``inv_freq`` of shape ``(rotary_dim // 2,)`` and ``attention_factor``.

    Notes
    -----
    Unknown or missing parameters raise ``TypeError``; bad values raise ``ValueError``.
    Spec: [F-FREQ-1], [F-FREQ-2], and the clause of each variant. Source: see ``VARIANTS[variant].source``.

    Examples
    --------
    >>> inv_freq("default", 4, theta=100.0).inv_freq
    array([1. , 0.1])
    >>> inv_freq("linear", 4, theta=100.0, factor=2.0).inv_freq
    array([0.5 , 0.05])
    """
    if not isinstance(variant, str):
        raise TypeError(f"variant must be a string, one of {sorted(VARIANTS)}, got {variant!r}")
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
    spec = VARIANTS[variant]
    rotary_dim = check_int("rotary_dim", rotary_dim, minimum=2, even=True)
    theta = check_real("theta", theta, minimum=0.0, strict_minimum=True)
    unknown = sorted(set(params) - set(spec.param_names))
    if unknown:
        raise TypeError(f"variant {variant!r} got unexpected parameter(s) {unknown}; it takes {list(spec.param_names)}")
    missing = [p.name for p in spec.params if p.required and params.get(p.name) is None]
    if missing:
        raise TypeError(f"variant {variant!r} requires parameter(s) {missing}")
    resolved = {p.name: params.get(p.name, p.default) for p in spec.params}
    with np.errstate(over="ignore", under="ignore"):  # extreme but finite inputs: judged on the result below
        omega, magnitude = spec.function(rotary_dim, theta, **resolved)
    if not (np.all(np.isfinite(omega)) and np.isfinite(magnitude)):
        raise ValueError(f"variant {variant!r} with theta={theta} and {resolved} gives non-finite inverse "
                         f"frequencies or magnitude (overflow: theta or a factor is too extreme for float64)")
    return Frequencies(omega, magnitude, variant, {"theta": theta, **resolved})
