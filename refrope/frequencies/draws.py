"""Each variant's parameter domain, as a draw from a :class:`~refrope.frequencies.params.Chooser`.

The spec suite turns these into hypothesis strategies; every branch of a variant (YaRN's three
magnitude rules, ``truncate``, where ``seq_len`` lies against the original length (LongRoPE's short/long
choice, dynamic NTK's switch), dynamic YaRN's three regimes) is one labelled choice, never nested in another,
so a run can show that it reached each and the suite can force each ([K-BRANCH-1]). Every draw is valid for the
given ``rotary_dim``. Spec: docs/spec/frequencies.md [F-FREQ-2].
"""

from __future__ import annotations

from .params import Chooser

__all__ = ["SEQ_LEN_AT", "factor", "length", "seq_len", "factor_only", "ntk_mixed", "mixed_radix", "dynamic_ntk",
           "ntk_by_parts", "dynamic_yarn", "yarn", "llama3", "longrope", "proportional"]

FAMOUS_FACTORS = (1.0, 2.0, 4.0, 8.0, 32.0)
FAMOUS_LENGTHS = (2048, 4096, 8192)
SEQ_LEN_AT = ("none", "below", "L - 1", "L", "L + 1", "above")
"""Where a drawn ``seq_len`` lies against the length ``L`` at which a variant switches (the off-by-one cases of
huggingface/transformers#33129 and unslothai/unsloth#10681 each forced)."""


def factor(c: Chooser) -> float:
    """An extension factor in [1, 64], the famous ones favoured."""
    return c.real(1.0, 64.0, favour=FAMOUS_FACTORS, label="factor")


def length(c: Chooser) -> int:
    """A pre-training length in [16, 16384], the famous ones favoured."""
    return c.integer(16, 16384, favour=FAMOUS_LENGTHS, label="original_max_position_embeddings")


def seq_len(c: Chooser, length: int, *, optional: bool = False) -> int | None:
    """A current length against ``length`` (:data:`SEQ_LEN_AT`; ``"none"`` only when ``optional``)."""
    where = c.choice(SEQ_LEN_AT if optional else SEQ_LEN_AT[1:], label="seq_len at")
    if where == "none":
        return None
    if where == "below":
        return c.integer(0, length - 2, label="seq_len")
    if where == "above":
        return c.integer(length + 2, 8 * length, label="seq_len")
    return length + {"L - 1": -1, "L": 0, "L + 1": 1}[where]


def factor_only(d: int, c: Chooser) -> dict:
    """``{"factor": k}`` (PI and the NTK family)."""
    return {"factor": factor(c)}


def ntk_mixed(d: int, c: Chooser) -> dict:
    return {"factor": factor(c), "b": c.real(0.0, 1.0, favour=(0.625, 0.75), label="b")}


def mixed_radix(d: int, c: Chooser) -> dict:
    return {"radices": sorted(c.reals(d // 2, 1.0, 3.0, label="radices"), reverse=True)}


def dynamic_ntk(d: int, c: Chooser) -> dict:
    n = length(c)
    return {"factor": factor(c), "original_max_position_embeddings": n, "seq_len": seq_len(c, n)}


def ntk_by_parts(d: int, c: Chooser) -> dict:
    return {"factor": factor(c), "original_max_position_embeddings": length(c),
            "ntk_factor": c.real(0.0, 1.0, favour=(1.0,), label="ntk_factor"),
            "extrapolation_factor": c.real(0.0, 1.0, favour=(1.0,), label="extrapolation_factor")}


def dynamic_yarn(d: int, c: Chooser) -> dict:
    """The regime is one choice: plain RoPE (``seq_len <= M``), ``finetuned`` (``seq_len <= M``), or extended
    (``seq_len > M``), ``M`` = ``max_position_embeddings`` or L."""
    n = length(c)
    given = c.boolean(label="max_position_embeddings given")
    limit = c.integer(n, 4 * n, label="max_position_embeddings") if given else n
    regime = c.choice(("plain", "finetuned", "extended"), label="dynamic_yarn regime")
    seq = (c.integer(limit + 1, 8 * limit, favour=(limit + 1,), label="seq_len") if regime == "extended"
           else c.integer(0, limit, favour=(limit, limit - 1), label="seq_len"))
    return {"original_max_position_embeddings": n, "seq_len": seq, "max_position_embeddings": limit if given else None,
            "finetuned": regime == "finetuned", "attn_factor": c.real(0.5, 2.0, favour=(1.0,), label="attn_factor")}


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
            "original_max_position_embeddings": n, "factor": factor(c), "seq_len": seq_len(c, n, optional=True)}


def proportional(d: int, c: Chooser) -> dict:
    return {"partial_rotary_factor": c.real(0.0, 1.0, label="partial_rotary_factor"), "factor": factor(c)}
