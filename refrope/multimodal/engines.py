r"""The pair-to-axis tables of the engines and libraries that differ from the Qwen rules, by name.

Each entry of :data:`ENGINE_TABLES` says, for an engine's ``sections`` (in that engine's own order and
units, all in pairs), which position stream (row of ``positions``) drives pair :math:`i`, and which
frequencies the pairs take; :func:`engine_axes` and :func:`engine_freqs` give them, ready for
:func:`refrope.apply_rope_nd`. Nothing here rotates: the rotation is always ``apply_rope_nd``.

Spec: docs/spec/multimodal.md, clauses ``[MM-ENG-1]``, ``[MM-ENG-2]``; the page docs/families/mrope.md
shows every table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np

from .._validation import _short, check_choice, check_int, check_real
from ..frequencies.base import Frequencies, rope_inv_freq
from .mrope import check_sections, mrope_axes

__all__ = ["EngineTable", "ENGINE_TABLES", "engine_axes", "engine_freqs"]


@dataclass(frozen=True)
class EngineTable:
    """One engine's M-RoPE-style table.

    ``streams`` names the rows of ``positions`` in order; ``counts`` the number of ``sections`` it takes
    (None: any); ``axes(sections, pairs)`` the pair-to-stream map; ``freqs(sections, d, theta)`` the
    inverse frequencies (None: RoPE's :math:`\\theta^{-2i/d}`, the index not reset per section);
    ``layout`` the engine's pair layout for this scheme.
    """

    name: str
    engine: str
    streams: tuple[str, ...]
    counts: tuple[int, ...] | None
    layout: str
    summary: str
    source: str
    axes: Callable[[tuple[int, ...], int], np.ndarray]
    freqs: Callable[[tuple[int, ...], int, float], np.ndarray] | None = None
    clause: str = "MM-ENG-1"


def _ggml(interleaved: bool):
    """ggml ``ggml_mrope_cache_init``: sector :math:`= i \\bmod \\sum s`; the fourth stream ``e`` takes what the
    other three do not [MM-ENG-2]."""
    def axes(s: tuple[int, ...], pairs: int) -> np.ndarray:
        sector = np.arange(pairs) % sum(s)
        if interleaved:
            out = np.full(pairs, 3)
            out[(sector % 3 == 0) & (sector < 3 * s[0])] = 0
            out[(sector % 3 == 2) & (sector < 3 * s[2])] = 2
            out[(sector % 3 == 1) & (sector < 3 * s[1])] = 1
            return out
        return np.searchsorted(np.cumsum(s), sector, side="right").clip(max=3)
    return axes


def _restart_freqs(per_section: Callable[[int, int], int]):
    """Frequencies whose index restarts at every section: :math:`\\theta^{-2j/n}`, ``n = per_section(s_a, d)``."""
    def freqs(s: tuple[int, ...], d: int, theta: float) -> np.ndarray:
        parts = []
        for size in s:
            n = per_section(size, d)
            parts.append(theta ** (-2.0 * np.arange(size, dtype=np.float64) / n))
        return np.concatenate(parts)
    return freqs


def _spatial_pairs(spatial: int, pairs: int) -> np.ndarray:
    """vLLM Ernie-4.5-VL / Bailing: pairs below ``spatial`` alternate h (even) and w (odd); the rest follow t."""
    i = np.arange(pairs)
    return np.where(i < spatial, 1 + i % 2, 0)


def _same_hw(s: tuple[int, ...], h: int, w: int) -> None:
    if s[h] != s[w]:
        raise ValueError(f"sections must give h and w the same number of pairs for this table, got {list(s)}")


def _ernie(s: tuple[int, ...], pairs: int) -> np.ndarray:
    _same_hw(s, 0, 1)  # vLLM's order: [h, w, t]
    return _spatial_pairs(s[0] + s[1], pairs)


def _bailing(s: tuple[int, ...], pairs: int) -> np.ndarray:
    _same_hw(s, 1, 2)  # [t, h, w]
    return _spatial_pairs(s[1] + s[2], pairs)


def _openpangu(s: tuple[int, ...], pairs: int) -> np.ndarray:
    """vLLM ``MRotaryEmbeddingInterleaved.get_mrope_interleaved_id_list``: a greedy interleave, each step the stream
    (not the previous one, unless it is the only one left) whose share placed so far is smallest, ties to the lower
    index; three sections keep one t pair for the last place."""
    counts = [s[0] - 1, s[1], s[2]] if len(s) == 3 else [s[0], s[1], 0]
    if min(counts) < 0:
        raise ValueError(f"sections must give t at least one pair for this table, got {list(s)}")
    remaining, placed, order, last = list(counts), [0, 0, 0], [], None
    for _ in range(sum(counts)):
        live = [k for k in range(3) if remaining[k] > 0]
        best = min([k for k in live if k != last] or live, key=lambda k: (Fraction(placed[k], counts[k]), k))
        order.append(best)
        placed[best] += 1
        remaining[best] -= 1
        last = best
    return np.array(order + ([0] if len(s) == 3 else []), dtype=np.int64)


def _blocked(s: tuple[int, ...], pairs: int) -> np.ndarray:
    return mrope_axes(s, "blocked")


ENGINE_TABLES: Mapping[str, EngineTable] = MappingProxyType({t.name: t for t in (
    EngineTable("mrope", "transformers, vLLM", ("t", "h", "w"), (3,), "half",
                "blocked M-RoPE (Qwen2-VL, Qwen2.5-VL): mrope_axes(sections, 'blocked')",
                "transformers 5.24 Qwen2VLRotaryEmbedding.recomposition_frequencies; vLLM 0.33 "
                "rotary_embedding/mrope.py MRotaryEmbedding", _blocked),
    EngineTable("imrope", "transformers, vLLM", ("t", "h", "w"), (3,), "half",
                "interleaved M-RoPE (Qwen3-VL, Qwen3.5): mrope_axes(sections, 'interleaved')",
                "transformers 5.24 Qwen3VLTextRotaryEmbedding.recomposition_frequencies; vLLM 0.33 "
                "rotary_embedding/mrope.py apply_interleaved_rope", lambda s, n: mrope_axes(s, "interleaved")),
    EngineTable("ggml_mrope", "ggml / llama.cpp", ("t", "h", "w", "e"), (4,), "half",
                "GGML_ROPE_TYPE_MROPE: sector i mod sum(s); blocks t, h, w, then e",
                "ggml ggml-cpu/ops.cpp ggml_mrope_cache_init (ggml-org/llama.cpp PR #10361)", _ggml(False)),
    EngineTable("ggml_imrope", "ggml / llama.cpp", ("t", "h", "w", "e"), (4,), "half",
                "GGML_ROPE_TYPE_IMROPE: h if sector % 3 == 1 and < 3 s1, w if % 3 == 2 and < 3 s2, t if % 3 == 0 "
                "and < 3 s0, else e (llama.cpp fills e with 0 for text)",
                "ggml ggml-cpu/ops.cpp ggml_mrope_cache_init (is_imrope); llama.cpp llm_graph_input_pos::set_input",
                _ggml(True)),
    EngineTable("ggml_vision", "ggml / llama.cpp", ("t", "h", "w", "e"), (4,), "half",
                "GGML_ROPE_TYPE_VISION: blocked streams, the frequency index restarts per section, "
                "theta^(-2j/(d/2)) (n_dims = head/2)",
                "ggml ggml-cpu/ops.cpp ggml_mrope_cache_init (indep_sects); llama.cpp tools/mtmd/clip.cpp",
                _ggml(False), _restart_freqs(lambda size, d: d // 2)),
    EngineTable("ernie45_vl", "vLLM", ("t", "h", "w"), (3,), "interleaved",
                "Ernie-4.5-VL, sections [h, w, t]: pairs below h + w alternate h, w; the rest t",
                "vLLM 0.33 rotary_embedding/ernie45_vl_rope.py Ernie4_5_VLRotaryEmbedding; transformers 5.24 "
                "Ernie4_5_VLMoeTextRotaryEmbedding", _ernie),
    EngineTable("bailing", "vLLM", ("t", "h", "w"), (3,), "interleaved",
                "Bailing M-RoPE, sections [t, h, w]: pairs below h + w alternate h, w; the rest t",
                "vLLM 0.33 rotary_embedding/bailing_mrope.py BailingMRotaryEmbedding.select_cos_sin", _bailing),
    EngineTable("xdrope", "vLLM", ("p", "w", "h", "t"), None, "half",
                "Hunyuan-VL XD-RoPE: one block per stream, in order (xdrope_section)",
                "vLLM 0.33 rotary_embedding/xdrope.py XDRotaryEmbedding", _blocked),
    EngineTable("openpangu", "vLLM", ("t", "h", "w"), (2, 3), "half",
                "openPangu: a greedy interleave of the streams, the last pair t (three sections)",
                "vLLM 0.33 rotary_embedding/openpangu_rope.py MRotaryEmbeddingInterleaved", _openpangu),
    EngineTable("rotary_embedding_torch_axial", "rotary-embedding-torch", ("axis 0", "axis 1", "..."), None,
                "interleaved", "get_axial_freqs: one block per axis, each with its own RotaryEmbedding(2 s_a) "
                "frequencies theta^(-2j/(2 s_a)) (freqs_for='lang')",
                "rotary-embedding-torch 0.9.1 RotaryEmbedding.get_axial_freqs", _blocked,
                _restart_freqs(lambda size, d: 2 * size)),
)})
"""The engine tables, by name ([MM-ENG-1])."""


def _table_sections(name: str, sections: Any, rotary_dim: Any) -> tuple[EngineTable, tuple[int, ...], int]:
    table = ENGINE_TABLES[check_choice("name", name, tuple(ENGINE_TABLES))]
    d = check_int("rotary_dim", rotary_dim, minimum=2, even=True)
    s = check_sections(sections)
    if table.counts is not None and len(s) not in table.counts:
        raise ValueError(f"sections must have {' or '.join(map(str, table.counts))} entries for table {name!r} "
                         f"(streams {table.streams}), got {_short(list(s))}")
    if not name.startswith("ggml") and sum(s) != d // 2:
        raise ValueError(f"sections must sum to d/2 = {d // 2} pairs for table {name!r}, got {list(s)}")
    if name.startswith("ggml") and sum(s) > d // 2:
        raise ValueError(f"sections must sum to at most d/2 = {d // 2} pairs (ggml asserts it), got {list(s)}")
    return table, s, d


def engine_axes(name: str, sections: Any, *, rotary_dim: int) -> np.ndarray:
    """The pair-to-stream map of table ``name`` for ``sections`` (the engine's order, in pairs): ``rotary_dim/2``
    stream indices into the rows of ``positions``. Spec: [MM-ENG-1], [MM-ENG-2].

    >>> engine_axes("ggml_imrope", [3, 1, 1, 0], rotary_dim=10)  # pair 4: sector 4 = 1 mod 3 but not < 3 s1
    array([0, 1, 2, 0, 3])
    >>> engine_axes("ernie45_vl", [2, 2, 2], rotary_dim=12)
    array([1, 2, 1, 2, 0, 0])
    """
    table, s, d = _table_sections(name, sections, rotary_dim)
    return np.asarray(table.axes(s, d // 2), dtype=np.int64)


def engine_freqs(name: str, sections: Any, *, rotary_dim: int, theta: float = 10000.0) -> Frequencies:
    r"""The inverse frequencies of table ``name``: RoPE's :math:`\theta^{-2i/d}` (index not reset), or the table's
    own per-section restart (``ggml_vision``, ``rotary_embedding_torch_axial``). Spec: [MM-ENG-1].

    >>> engine_freqs("rotary_embedding_torch_axial", [2, 2], rotary_dim=8, theta=100.0).inv_freq
    array([1. , 0.1, 1. , 0.1])
    """
    table, s, d = _table_sections(name, sections, rotary_dim)
    theta = check_real("theta", theta, minimum=0.0, strict_minimum=True)
    omega = rope_inv_freq(d, theta) if table.freqs is None else table.freqs(s, d, theta)
    return Frequencies(omega, 1.0, "custom", {"theta": theta, "engine_table": name})
