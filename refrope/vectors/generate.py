r"""The golden-vector case list: what is exported, with fixed seeds, and how each input is drawn.

Every input is a deterministic function of its case's seed, drawn from the raw PCG64 bit stream
(:meth:`numpy.random.PCG64.random_raw`, whose output NumPy keeps stable across versions) and mapped to
13-bit dyadic rationals, which float32 represents exactly; no clock, no global state. The list covers
every frequency variant, every relative-position map and query scale, the three layouts, partial
rotary slices with offsets on both sides, long positions (:math:`2^{11}` to :math:`2^{20}`), large
:math:`\theta` (5e5, 1e6) and the rotary dimensions 20, 36, 72, 80, 96, 120 and 192.
Spec: [GV-CASES-1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import inv_freq
from .. import query_scale as qs
from .. import relpos as rp
from ..bias import BIASES
from ..frequencies.base import Frequencies
from ..frequencies.registry import VARIANTS

__all__ = ["FreqConfig", "RopeCase", "AttnCase", "dyadic", "sample_positions", "FREQS", "ROPE_CASES",
           "ATTENTION_CASES", "LONG_ROPE_CASES", "LONG_ATTENTION_CASES"]


def dyadic(seed: int, shape: tuple[int, ...], *, half_range: float = 4.0) -> np.ndarray:
    r"""Values :math:`(u - 2^{12})\,h/2^{12}` in :math:`[-h, h)`, :math:`u` the top 13 bits of raw PCG64 draws.

    Every value is exactly representable in float32 (13 significant bits, power-of-two ``half_range``).

    >>> dyadic(0, (3,))
    array([ 1.09472656, -1.84179688, -3.67285156])
    """
    raw = np.random.PCG64(seed).random_raw(int(np.prod(shape, dtype=np.int64)))
    u = (raw >> np.uint64(51)).astype(np.int64) - 4096
    return (u * (half_range / 4096.0)).reshape(shape)


def sample_positions(seed: int, low: int, high: int, n: int) -> tuple[int, ...]:
    """``n`` sorted integer positions in ``[low, high]`` from raw PCG64 draws, ``low`` and ``high`` included.

    >>> sample_positions(1, 2**11, 2**20, 4)
    (2048, 130577, 583272, 1048576)
    """
    raw = np.random.PCG64(seed).random_raw(max(n - 2, 0))
    inner = (low + (raw % np.uint64(high - low + 1)).astype(np.int64)).tolist()
    return tuple(sorted([low, high, *inner]))


@dataclass(frozen=True)
class FreqConfig:
    """One frequency variant with its parameters (``params`` as sorted ``(name, value)`` pairs)."""

    variant: str
    rotary_dim: int
    theta: float
    params: tuple[tuple[str, Any], ...] = ()

    def freqs(self) -> Frequencies:
        """The oracle's :class:`Frequencies` for this configuration."""
        return inv_freq(self.variant, self.rotary_dim, theta=self.theta, **dict(self.params))


def _cfg(variant: str, d: int, theta: float = 10000.0, **params: Any) -> FreqConfig:
    return FreqConfig(variant, d, theta, tuple(sorted(params.items())))


def _ramp(n: int, start: float, stop: float) -> tuple[float, ...]:
    return tuple(float(v) for v in np.linspace(start, stop, n))


FREQS: dict[str, FreqConfig] = {
    "default_8": _cfg("default", 8),
    "default_20_1e6": _cfg("default", 20, 1e6),
    "default_128_5e5": _cfg("default", 128, 5e5),
    "linear_36": _cfg("linear", 36, factor=4.0),
    "ntk_aware_72": _cfg("ntk_aware", 72, factor=8.0),
    "ntk_base_80": _cfg("ntk_base", 80, factor=4.0),
    "ntk_fixed_96": _cfg("ntk_fixed", 96, factor=8.0),
    "ntk_mixed_120": _cfg("ntk_mixed", 120, factor=8.0, b=0.625),
    "mixed_radix_8": _cfg("mixed_radix", 8, radices=(4.0, 2.0, 2.0, 1.0)),
    "dynamic_ntk_64": _cfg("dynamic_ntk", 64, factor=2.0, original_max_position_embeddings=4096, seq_len=16384),
    "ntk_by_parts_64": _cfg("ntk_by_parts", 64, factor=8.0, original_max_position_embeddings=2048),
    "dynamic_yarn_64": _cfg("dynamic_yarn", 64, original_max_position_embeddings=2048, seq_len=8192),
    "yarn_192_1e6": _cfg("yarn", 192, 1e6, factor=4.0, original_max_position_embeddings=32768),
    "yarn_deepseek_64": _cfg("yarn", 64, factor=40.0, original_max_position_embeddings=4096, mscale=1.0,
                             mscale_all_dim=1.0),
    "yarn_gptoss_64": _cfg("yarn", 64, 150000.0, factor=32.0, original_max_position_embeddings=4096,
                           truncate=False),
    "llama3_128_5e5": _cfg("llama3", 128, 5e5, factor=8.0, original_max_position_embeddings=8192,
                           low_freq_factor=1.0, high_freq_factor=4.0),
    "longrope_96_long": _cfg("longrope", 96, short_factor=_ramp(48, 1.0, 2.0), long_factor=_ramp(48, 1.0, 40.0),
                             original_max_position_embeddings=4096, factor=32.0, seq_len=131072),
    "longrope_96_short": _cfg("longrope", 96, short_factor=_ramp(48, 1.0, 2.0), long_factor=_ramp(48, 1.0, 40.0),
                              original_max_position_embeddings=4096, factor=32.0),
    "proportional_128_1e6": _cfg("proportional", 128, 1e6, partial_rotary_factor=0.25),
}
"""The frequency configurations the vectors use, by name: every variant at least once."""


@dataclass(frozen=True)
class RopeCase:
    """One ``apply_rope`` case: ``x`` of shape ``(len(positions), head_dim)`` drawn from ``seed``."""

    freq: str
    layout: str
    head_dim: int
    rotary_offset: int
    positions: tuple[int, ...]
    seed: int
    comment: str
    flags: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ("R-APPLY-1",)


SMALL = (0, 7)
LONG = (2**11 + 1, 2**20)


def _rope_cases() -> tuple[RopeCase, ...]:
    cases = []
    seed = 100
    for layout in ("half", "interleaved", "interleaved_to_half"):  # the layout sweep on two configurations
        for name in ("default_8", "default_20_1e6"):
            for positions, flag in ((SMALL, "Identity"), (LONG, "LongContext")):
                seed += 1
                d = FREQS[name].rotary_dim
                cases.append(RopeCase(name, layout, d, 0, positions, seed, f"{name}, {layout}, positions {positions}",
                                      (flag, "LayoutSweep"), ("R-APPLY-1", "C-LAYOUT-1")))
    layouts = ("half", "interleaved", "interleaved_to_half")
    for index, (name, cfg) in enumerate(FREQS.items()):  # every variant, small and long positions
        if name in ("default_8", "default_20_1e6"):
            continue
        for j, (positions, flag) in enumerate(((SMALL, "Identity"), (LONG, "LongContext"))):
            seed += 1
            layout = layouts[(index + j) % 3]
            flags = (flag, "LargeTheta") if cfg.theta >= 5e5 else (flag,)
            cases.append(RopeCase(name, layout, cfg.rotary_dim, 0, positions, seed,
                                  f"{cfg.variant} d={cfg.rotary_dim} theta={cfg.theta:g}, {layout}", flags,
                                  ("R-APPLY-1", VARIANTS[cfg.variant].clause)))
    for name, head_dim, offset in (("default_20_1e6", 32, 0), ("default_20_1e6", 32, 8), ("linear_36", 64, 12),
                                   ("yarn_deepseek_64", 72, 8)):  # partial rotary, pass-through on both sides
        for layout in layouts:
            seed += 1
            cases.append(RopeCase(name, layout, head_dim, offset, (0, 5, 2**16 + 1), seed,
                                  f"rotary slice [{offset}, {offset + FREQS[name].rotary_dim}) of head_dim {head_dim}, "
                                  f"{layout}", ("PartialRotary",), ("R-APPLY-1", "R-APPLY-2")))
    return tuple(cases)


ROPE_CASES = _rope_cases()
"""The small ``apply_rope`` cases (JSON and the flat text format)."""

LONG_ROPE_CASES = (
    RopeCase("llama3_128_5e5", "half", 128, 0, tuple(range(2**20 - 1023, 2**20 + 1)), 900,
             "llama3 theta=5e5, the last 1024 positions up to 2^20", ("LongContext", "LargeTheta")),
    RopeCase("yarn_192_1e6", "interleaved", 208, 8, sample_positions(901, 2**11, 2**20, 512), 902,
             "yarn theta=1e6, d=192 inside head_dim 208 at offset 8, 512 positions in [2^11, 2^20]",
             ("LongContext", "LargeTheta", "PartialRotary"), ("R-APPLY-1", "R-APPLY-2")),
    RopeCase("ntk_mixed_120", "interleaved_to_half", 120, 0, tuple(range(2**11, 2**11 + 1024)), 903,
             "ntk_mixed d=120, positions 2^11 .. 2^11 + 1023", ("LongContext",)),
)
"""The long-context ``apply_rope`` cases (safetensors)."""


@dataclass(frozen=True)
class AttnCase:
    """One attention case: q ``(heads_q, n, head_dim)``, k ``(heads_kv, n, head_dim)``, v ``(heads_kv, n, dv)``.

    Positions are ``start + arange(n)`` for queries and keys. ``relpos``, ``query_scale`` and ``bias`` are
    ``(factory name, args)`` of :mod:`refrope.relpos` / :mod:`refrope.query_scale` / :mod:`refrope.bias`
    (a per-head argument is a tuple); ``chunk_size`` the chunk mask (the schemes' cases:
    :mod:`~refrope.vectors.cases_schemes`).
    """

    freq: str
    relpos: tuple[str, tuple[float, ...]]
    query_scale: tuple[str, tuple[float, ...]] | None
    n: int
    seed: int
    comment: str
    head_dim: int = 8
    dv: int = 4
    heads_q: int = 1
    heads_kv: int = 1
    start: int = 0
    layout: str = "half"
    causal: bool = True
    sliding_window: float | None = None
    flags: tuple[str, ...] = ()
    clauses: tuple[str, ...] = field(default=("A-OUT-1",))
    bias: tuple[str, tuple] | None = None
    chunk_size: int | None = None

    def relpos_map(self) -> rp.RelPos:
        return rp.MAPS[self.relpos[0]].factory(*self.relpos[1])

    def query_scale_fn(self):
        return None if self.query_scale is None else qs.SCALES[self.query_scale[0]].factory(*self.query_scale[1])

    def bias_fn(self):
        return None if self.bias is None else BIASES[self.bias[0]].factory(*self.bias[1])


_R = ("A-OUT-1", "A-RERO-1")
ATTENTION_CASES = (
    AttnCase("default_8", ("rope", ()), None, 8, 200, "plain RoPE, causal", clauses=("A-OUT-1", "L-MAP-1")),
    AttnCase("default_8", ("rope", ()), None, 8, 201, "plain RoPE, bidirectional", causal=False,
             clauses=("A-OUT-1", "L-MAP-1")),
    AttnCase("default_8", ("rope", ()), None, 8, 202, "plain RoPE, sliding window 3", sliding_window=3.0,
             flags=("SlidingWindow",), clauses=("A-OUT-1", "A-MASK-2")),
    AttnCase("default_8", ("linear", (2.0,)), None, 8, 203, "position interpolation k=2",
             clauses=("A-OUT-1", "L-MAP-2")),
    AttnCase("default_8", ("rerope", (3.0,)), ("logn_clipped", (4.0,)), 8, 204, "ReRoPE w=3 with logn clipped at L=4",
             flags=("ReRoPE", "LogN"), clauses=(*_R, "L-MAP-3", "G-CLIP-1")),
    AttnCase("default_8", ("rerope", (3.0,)), ("logn", (4.0,)), 8, 205, "ReRoPE w=3 with logn (unclipped) at L=4",
             flags=("ReRoPE", "LogN"), clauses=(*_R, "L-MAP-3", "G-LOGN-1")),
    AttnCase("default_8", ("rerope", (2.0,)), None, 8, 206, "ReRoPE w=2, bidirectional (odd extension)",
             causal=False, flags=("ReRoPE",), clauses=(*_R, "L-MAP-3")),
    AttnCase("default_8", ("leaky_rerope", (3.0, 4.0)), ("logn_clipped", (4.0,)), 8, 207,
             "Leaky ReRoPE w=3 k=4 with logn clipped", flags=("ReRoPE", "LogN"), clauses=(*_R, "L-MAP-4", "G-CLIP-1")),
    AttnCase("default_8", ("inv_leaky_rerope", (2.0, 0.25)), None, 8, 208, "InvLeaky ReRoPE w=2 k=1/4",
             flags=("ReRoPE",), clauses=(*_R, "L-MAP-5")),
    AttnCase("default_20_1e6", ("rerope", (4.0,)), ("logn_clipped", (8.0,)), 8, 209,
             "ReRoPE at positions from 2^11, d=20 in head_dim 24, theta=1e6, interleaved", head_dim=24, start=2**11,
             layout="interleaved", flags=("ReRoPE", "LogN", "LongContext", "PartialRotary", "LargeTheta"),
             clauses=(*_R, "A-PASS-1")),
    AttnCase("default_8", ("leaky_rerope", (2.0, 16.0)), ("logn", (4.0,)), 8, 210,
             "Leaky ReRoPE, GQA (4 query heads on 2 kv heads)", heads_q=4, heads_kv=2, flags=("ReRoPE", "LogN", "GQA"),
             clauses=(*_R, "A-GQA-1")),
    AttnCase("yarn_deepseek_64", ("rerope", (5.0,)), ("llama4_temperature", (4.0, 0.5)), 8, 211,
             "ReRoPE with a YaRN magnitude and the Llama 4 temperature", head_dim=64,
             flags=("ReRoPE", "Magnitude"), clauses=(*_R, "A-MAG-1", "G-LLAMA4-1")),
    AttnCase("default_8", ("rope", ()), ("llama4_scaling", (0.5, 3.0)), 8, 212,
             "plain RoPE with the Ministral 3 / Mistral 4 query scaling beta=0.5, L=3 (steps at p = 3 and 6)",
             clauses=("A-OUT-1", "G-LLAMA4-2")),
)
"""The small attention cases (JSON): every relative-position map and query scale."""

LONG_ATTENTION_CASES = (
    AttnCase("default_20_1e6", ("rerope", (512.0,)), ("logn_clipped", (2048.0,)), 8192, 950,
             "ReRoPE w=512 with logn clipped at L=2048, n=8192, d=20 in head_dim 32, theta=1e6", head_dim=32, dv=16,
             flags=("ReRoPE", "LogN", "LongContext", "PartialRotary", "LargeTheta"), clauses=(*_R, "G-CLIP-1")),
    AttnCase("default_128_5e5", ("leaky_rerope", (256.0, 16.0)), ("logn", (2048.0,)), 2048, 951,
             "Leaky ReRoPE w=256 k=16 with logn, positions 2^20 - 2047 .. 2^20, d=128, interleaved", head_dim=128,
             dv=16, start=2**20 - 2047, layout="interleaved", flags=("ReRoPE", "LogN", "LongContext", "LargeTheta"),
             clauses=(*_R, "G-LOGN-1")),
)
"""The long-context attention cases (safetensors)."""
