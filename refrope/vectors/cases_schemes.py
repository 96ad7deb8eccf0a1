r"""The golden-vector cases of the schemes (docs/spec/schemes.md): attention with biases, NoPE and chunk masks, xPos,
dual-chunk attention. Inputs are drawn like every other case (:func:`~refrope.vectors.generate.dyadic`, fixed
seeds); the attention cases are :class:`~refrope.vectors.generate.AttnCase` s and join ``attention_vV.json``, the
others have files of their own (``xpos_vV.json``, ``dual_chunk_vV.json``). Spec: [GV-CASES-1].
"""

from __future__ import annotations

from dataclasses import dataclass

from ..bias import alibi_slopes
from .generate import AttnCase

__all__ = ["ATTENTION_SCHEME_CASES", "XposCase", "XPOS_CASES", "DcaCase", "DCA_CASES", "SCHEME_NOTES", "ALL"]

SCHEME_NOTES = {
    "Bias": "an additive position bias b(p_i - p_j) (refrope.bias) after every logit factor, on the raw distance",
    "NoPE": "relpos 'none': no rotation and no magnitude; the group's frequencies are not applied",
    "Chunked": "chunk_size C: only pairs with floor(p_i / C) == floor(p_j / C) attend (Llama 4's local layers)",
    "XPos": "xPos: rotated pair i times zeta_i^(+p/B) for queries, zeta_i^(-p/B) for keys",
    "DualChunk": "dual-chunk attention: relative positions at most chunk_size (intra, successive, inter chunks)",
}
"""The notes of the schemes' flags (joined to the files' notes)."""

_SLOPES_12 = tuple(float(s) for s in alibi_slopes(12))

ATTENTION_SCHEME_CASES = (
    AttnCase("default_8", ("none", ()), None, 8, 300, "NoPE with ALiBi, the paper's slopes for 12 heads (Bloom)",
             heads_q=12, heads_kv=12, bias=("alibi", (_SLOPES_12,)), flags=("Bias", "NoPE"),
             clauses=("A-OUT-1", "A-BIAS-1", "A-NOPE-1", "BIAS-ALIBI-1", "BIAS-SLOPES-1")),
    AttnCase("default_8", ("rope", ()), None, 8, 301, "RoPE with KERPLE power r1=0.5 r2=1.5",
             bias=("kerple_power", (0.5, 1.5)), flags=("Bias",), clauses=("A-OUT-1", "A-BIAS-1", "BIAS-KERPLE-1")),
    AttnCase("default_8", ("rope", ()), None, 8, 302, "RoPE with KERPLE log r1=1 r2=2, positions from 2^11",
             start=2**11, bias=("kerple_log", (1.0, 2.0)), flags=("Bias", "LongContext"),
             clauses=("A-OUT-1", "A-BIAS-1", "BIAS-KERPLE-2")),
    AttnCase("default_8", ("none", ()), None, 8, 303, "NoPE with Sandwich lam=0.5 D=8 (GQA: 4 query heads on 2)",
             heads_q=4, heads_kv=2, bias=("sandwich", (0.5, 8, 10000.0)), flags=("Bias", "NoPE", "GQA"),
             clauses=("A-OUT-1", "A-BIAS-1", "A-NOPE-1", "BIAS-SANDWICH-1")),
    AttnCase("default_8", ("none", ()), ("llama4_temperature", (4.0, 0.5)), 8, 304,
             "Llama 4 NoPE layer: no rotation, the temperature with F=4 a=0.5", heads_q=4, heads_kv=2,
             flags=("NoPE", "GQA"), clauses=("A-OUT-1", "A-NOPE-1", "CHUNK-LLAMA4-1", "G-LLAMA4-1")),
    AttnCase("default_8", ("rope", ()), None, 8, 305, "Llama 4 chunked layer: interleaved RoPE, chunks of 3",
             heads_q=4, heads_kv=2, layout="interleaved", chunk_size=3, flags=("Chunked", "GQA"),
             clauses=("A-OUT-1", "A-MASK-5", "CHUNK-LLAMA4-1")),
    AttnCase("default_8", ("rerope", (2.0,)), ("logn_clipped", (4.0,)), 8, 306,
             "ReRoPE w=2 with per-head ALiBi on the raw distance, logn clipped, chunks of 4 from position 5",
             heads_q=2, heads_kv=1, start=5, bias=("alibi", ((0.5, 0.25),)), chunk_size=4,
             flags=("Bias", "Chunked", "ReRoPE", "LogN", "GQA"), clauses=("A-OUT-1", "A-BIAS-1", "A-MASK-5")),
)
"""The attention cases of the schemes: every bias, NoPE, Llama 4's two layer kinds, and a combination."""


@dataclass(frozen=True)
class XposCase:
    """One ``apply_xpos`` case: ``x`` of shape ``(len(positions), head_dim)`` drawn from ``seed``."""

    freq: str
    layout: str
    role: str
    head_dim: int
    positions: tuple[int, ...]
    seed: int
    comment: str
    scale_base: float = 512.0
    gamma: float = 0.4
    flags: tuple[str, ...] = ("XPos",)
    clauses: tuple[str, ...] = ("XPOS-APPLY-1", "XPOS-SCALE-1")


_XPOS_POSITIONS = (0, 1, 512, 8191)
XPOS_CASES = (
    XposCase("default_8", "half", "q", 8, _XPOS_POSITIONS, 400, "xPos queries, d=8, B=512, gamma=0.4"),
    XposCase("default_8", "half", "k", 8, _XPOS_POSITIONS, 401, "xPos keys, d=8, B=512, gamma=0.4"),
    XposCase("default_20_1e6", "interleaved", "q", 24, (-2048, 0, 2048, 8191), 402,
             "xPos queries, d=20 in head_dim 24, theta=1e6, interleaved, negative positions",
             flags=("XPos", "PartialRotary", "LargeTheta")),
    XposCase("default_20_1e6", "interleaved_to_half", "k", 24, (-2048, 0, 2048, 8191), 403,
             "xPos keys, d=20 in head_dim 24, interleaved_to_half, B=2048, gamma=1", scale_base=2048.0, gamma=1.0,
             flags=("XPos", "PartialRotary", "LargeTheta")),
)
"""The ``apply_xpos`` cases (``xpos_vV.json``): both roles, every layout, partial rotary, negative positions."""


@dataclass(frozen=True)
class DcaCase:
    """One ``dual_chunk_attention`` case: q ``(heads_q, n_q, head_dim)``, k, v ``(heads_kv, n_k, ...)``."""

    freq: str
    chunk_size: int
    local_size: int
    n_k: int
    n_q: int
    seed: int
    comment: str
    head_dim: int = 8
    dv: int = 4
    heads_q: int = 1
    heads_kv: int = 1
    layout: str = "half"
    flags: tuple[str, ...] = ("DualChunk",)
    clauses: tuple[str, ...] = ("DCA-ATTN-1", "DCA-POS-1")


DCA_CASES = (
    DcaCase("default_8", 8, 2, 32, 32, 500, "chunk_size 8, local_size 2, 32 tokens: intra, successive, inter"),
    DcaCase("default_20_1e6", 6, 1, 20, 4, 501, "the last 4 queries of 20, chunk 6, local 1, GQA, interleaved",
            head_dim=24, heads_q=4, heads_kv=2, layout="interleaved",
            flags=("DualChunk", "GQA", "PartialRotary", "LargeTheta")),
    DcaCase("yarn_deepseek_64", 16, 3, 40, 40, 502, "chunk 16, local 3, 40 tokens, a YaRN magnitude",
            head_dim=64, flags=("DualChunk", "Magnitude")),
)
"""The ``dual_chunk_attention`` cases (``dual_chunk_vV.json``)."""

ALL = (ATTENTION_SCHEME_CASES, XPOS_CASES, DCA_CASES)
"""Every case list of this module."""
