"""Each variant's parameter domain, as a draw from a :class:`~refrope.frequencies.params.Chooser`.

The spec suite turns these into hypothesis strategies; every branch of a variant (YaRN's three
magnitude rules, ``truncate``, LongRoPE's short/long choice, dynamic YaRN's three regimes) is one
labelled choice, so a run can show that it reached each. Every draw is valid for the given
``rotary_dim``. Spec: docs/spec/frequencies.md [F-FREQ-2].
"""

from __future__ import annotations

from .params import Chooser

__all__ = ["factor", "length", "factor_only", "ntk_mixed", "mixed_radix", "dynamic_ntk", "ntk_by_parts",
           "dynamic_yarn", "yarn", "llama3", "longrope", "proportional"]

FAMOUS_FACTORS = (1.0, 2.0, 4.0, 8.0, 32.0)
FAMOUS_LENGTHS = (2048, 4096, 8192)


def factor(c: Chooser) -> float:
    """An extension factor in [1, 64], the famous ones favoured."""
    return c.real(1.0, 64.0, favour=FAMOUS_FACTORS, label="factor")


def length(c: Chooser) -> int:
    """A pre-training length in [16, 16384], the famous ones favoured."""
    return c.integer(16, 16384, favour=FAMOUS_LENGTHS, label="original_max_position_embeddings")


def factor_only(d: int, c: Chooser) -> dict:
    """``{"factor": k}`` (PI and the NTK family)."""
    return {"factor": factor(c)}


def ntk_mixed(d: int, c: Chooser) -> dict:
    return {"factor": factor(c), "b": c.real(0.0, 1.0, favour=(0.625, 0.75), label="b")}


def mixed_radix(d: int, c: Chooser) -> dict:
    return {"radices": sorted(c.reals(d // 2, 1.0, 3.0, label="radices"), reverse=True)}


def dynamic_ntk(d: int, c: Chooser) -> dict:
    n = length(c)
    return {"factor": factor(c), "original_max_position_embeddings": n, "seq_len": c.integer(0, 8 * n, label="seq_len")}


def ntk_by_parts(d: int, c: Chooser) -> dict:
    return {"factor": factor(c), "original_max_position_embeddings": length(c),
            "ntk_factor": c.real(0.0, 1.0, favour=(1.0,), label="ntk_factor"),
            "extrapolation_factor": c.real(0.0, 1.0, favour=(1.0,), label="extrapolation_factor")}


def dynamic_yarn(d: int, c: Chooser) -> dict:
    n = length(c)
    return {"original_max_position_embeddings": n, "seq_len": c.integer(0, 8 * n, label="seq_len"),
            "max_position_embeddings": c.choice((None, c.integer(n, 4 * n, label="max_position_embeddings")),
                                                label="max_position_embeddings given"),
            "finetuned": c.boolean(label="finetuned"),
            "attn_factor": c.real(0.5, 2.0, favour=(1.0,), label="attn_factor")}


def yarn(d: int, c: Chooser) -> dict:
    fast = c.real(2.0, 64.0, favour=(32.0,), label="beta_fast")
    out = {"factor": factor(c), "original_max_position_embeddings": length(c), "beta_fast": fast,
           "beta_slow": c.real(0.25, fast / 1.5, favour=(1.0,), label="beta_slow"),
           "truncate": c.boolean(label="truncate")}
    magnitude = c.choice(("derived", "mscale", "explicit"), label="yarn magnitude")
    if magnitude == "mscale":
        out["mscale"] = c.real(0.5, 2.0, label="mscale")
        out["mscale_all_dim"] = c.real(0.5, 2.0, label="mscale_all_dim")
    elif magnitude == "explicit":
        out["attention_factor"] = c.real(0.5, 2.0, label="attention_factor")
    return out


def llama3(d: int, c: Chooser) -> dict:
    low = c.real(0.25, 4.0, favour=(1.0,), label="low_freq_factor")
    return {"factor": factor(c), "original_max_position_embeddings": length(c), "low_freq_factor": low,
            "high_freq_factor": low + c.real(0.25, 8.0, favour=(3.0,), label="high - low")}


def longrope(d: int, c: Chooser) -> dict:
    n = length(c)
    return {"short_factor": c.reals(d // 2, 1.0, 64.0, label="short_factor"),
            "long_factor": c.reals(d // 2, 1.0, 64.0, label="long_factor"),
            "original_max_position_embeddings": n, "factor": factor(c),
            "seq_len": c.choice((None, c.integer(0, 4 * n, label="seq_len")), label="seq_len given")}


def proportional(d: int, c: Chooser) -> dict:
    return {"partial_rotary_factor": c.real(0.0, 1.0, label="partial_rotary_factor"), "factor": factor(c)}
