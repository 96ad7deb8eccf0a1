"""Hypothesis strategies and real-model fixtures for Hugging Face configs (docs/spec/hf_config.md).

A :class:`RopeSpec` is one RoPE configuration in the abstract (rope type, head geometry,
theta, partial rotary factor, the rope dict's parameters, top-level keys, the length asked
for); :func:`render` writes it as a ``config.json`` dict in one of three styles:

* ``"v5"``: ``rope_parameters`` holding ``rope_type``, ``rope_theta`` and ``partial_rotary_factor``;
* ``"v4"``: ``rope_scaling`` with the legacy ``type`` (or ``rope_type``) key, theta and partial at top level;
* ``"nested"``: ``rope_parameters`` keyed by layer type (``full_attention``/``sliding_attention``).

Every rendered config is valid for transformers 5.24 (``LlamaConfig`` for flat styles,
``GptOssConfig`` for nested ones), so the cross-check can build both sides from it.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import refrope

HF_TYPES = tuple(v.hf_type for v in refrope.VARIANTS.values() if v.hf_type is not None)
STYLES = ("v5", "v4", "nested")
LAYER_TYPES = ["sliding_attention", "sliding_attention", "full_attention"]
WITH_ORIGINAL = ("yarn", "longrope", "llama3")

thetas = st.sampled_from([10_000.0, 150_000.0, 500_000.0, 1_000_000.0]) | st.floats(100.0, 1e7)
factors = st.sampled_from([1.0, 2.0, 4.0, 8.0, 32.0, 40.0]) | st.floats(1.0, 64.0)
max_positions = st.sampled_from([2048, 4096, 8192, 32768, 131072]) | st.integers(64, 1 << 20)
head_dims = st.sampled_from([32, 64, 80, 96, 128, 256]) | st.integers(1, 32).map(lambda n: 8 * n)
partials = st.sampled_from([1.0, 0.5, 0.25, 0.75, 0.4])


@dataclass(frozen=True)
class HFCase:
    """A config dict and the call to make: ``from_hf_config(config, seq_len=..., layer_type=...)``."""

    config: dict
    rope_type: str
    seq_len: int | None = None
    layer_type: str | None = None


@dataclass(frozen=True)
class RopeSpec:
    """One RoPE configuration before it is written in a style (see :func:`render`)."""

    rope_type: str
    head_dim: int
    heads: int | None  # None: give head_dim; else hidden_size = head_dim * heads
    theta: float | None  # None: omitted (transformers and refrope use 10000)
    partial: float | None  # None: omitted (1.0)
    params: dict  # the rope dict's other keys (factor, original_max_position_embeddings, ...)
    top: dict = field(default_factory=dict)  # other top-level keys (max_position_embeddings, ...)
    seq_len: int | None = None  # dynamic: as given; longrope: an offset from L (None: no seq_len)

    def original_length(self, nested: bool) -> int:
        """L as transformers resolves it: top level (flat only), the rope dict, else max_position_embeddings."""
        top = None if nested else self.top.get("original_max_position_embeddings")
        own = self.params.get("original_max_position_embeddings")
        return top if top is not None else own if own is not None else self.top["max_position_embeddings"]


def render(spec: RopeSpec, style: str, *, type_key: str = "type") -> HFCase:
    """Write ``spec`` as a config dict in ``style`` ("v5", "v4" or "nested")."""
    rope = {"rope_type": spec.rope_type, **copy.deepcopy(spec.params)}
    shared = {"rope_theta": spec.theta, "partial_rotary_factor": spec.partial}
    shared = {key: value for key, value in shared.items() if value is not None}
    if spec.heads is None or style == "nested":
        config = {"head_dim": spec.head_dim, **copy.deepcopy(spec.top)}
    else:
        config = {"hidden_size": spec.head_dim * spec.heads, "num_attention_heads": spec.heads, **spec.top}
    layer_type = None
    if style == "v5":
        config["rope_parameters"] = {**rope, **shared}
    elif style == "v4":
        rope[type_key] = rope.pop("rope_type")
        config.update(shared)
        config["rope_scaling"] = None if spec.rope_type == "default" and not spec.params else rope
    else:  # GptOssConfig's class default theta is 150000, so a nested config always names theta
        layer_type = "full_attention"
        shared.setdefault("rope_theta", 10_000.0)
        config.update(layer_types=list(LAYER_TYPES), num_hidden_layers=len(LAYER_TYPES))
        beside = {"truncate": rope.pop("truncate")} if "truncate" in rope else {}  # where transformers reads it
        config["rope_parameters"] = {"sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
                                     "full_attention": {**rope, **shared}, **beside}
    seq_len = spec.seq_len
    if spec.rope_type == "longrope" and seq_len is not None:
        seq_len = spec.original_length(style == "nested") + seq_len
    return HFCase(config, spec.rope_type, seq_len, layer_type)


@st.composite
def _geometry(draw, rope_type: str) -> tuple[int, int | None, float | None]:
    head_dim = draw(head_dims, label="head_dim")
    partial = draw(st.none() | partials, label="partial_rotary_factor")
    if rope_type == "proportional":
        partial = draw(st.none() | st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0.0, 1.0))
        return head_dim, draw(st.none() | st.integers(1, 16)), partial
    rotary = int(head_dim * (1.0 if partial is None else partial))
    assume(rotary % 2 == 0 and rotary >= 4)
    return head_dim, draw(st.none() | st.integers(1, 16), label="heads"), partial


@st.composite
def _original(draw, params: dict, top: dict, max_pos: int, *, at_most_max: bool) -> None:
    """Place L in the rope dict, at top level (the Phi-3 exception), both, or nowhere."""
    low = max(16, max_pos // 64)
    lengths = st.integers(low, max_pos) if at_most_max else st.integers(16, 1 << 20)
    where = draw(st.sampled_from(["rope", "top", "both", "none"]), label="original placement")
    if where in ("rope", "both"):
        params["original_max_position_embeddings"] = draw(lengths)
    if where in ("top", "both"):
        top["original_max_position_embeddings"] = draw(lengths)


@st.composite
def _yarn_params(draw, params: dict) -> None:
    factor = draw(st.none() | factors, label="factor")
    params["factor"] = factor  # yarn's factor key is required by transformers, null allowed
    betas = draw(st.sampled_from(["absent", "paper", "zero", "random"]), label="betas")
    if betas == "paper":
        params.update(beta_fast=32, beta_slow=1)
    elif betas == "zero":  # transformers' `or`: 0 means the default
        params.update(beta_fast=0, beta_slow=draw(st.sampled_from([0, 0.5, 2.0])))
    elif betas == "random":
        slow = draw(st.floats(0.25, 4.0))
        params.update(beta_slow=slow, beta_fast=slow + draw(st.floats(1.0, 128.0)))
    if draw(st.booleans()):
        params.update(mscale=draw(st.sampled_from([0.0, 0.707, 1.0]) | st.floats(0.0, 2.0)),
                      mscale_all_dim=draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 2.0)))
    if draw(st.booleans()):
        params["attention_factor"] = draw(st.floats(0.1, 3.0))
    if draw(st.booleans()):
        params["truncate"] = draw(st.booleans())


def _factor_list(n: int) -> st.SearchStrategy:
    return st.lists(st.floats(1.0, 64.0), min_size=n, max_size=n)


@st.composite
def rope_specs(draw, rope_type: str) -> RopeSpec:
    """A valid configuration of ``rope_type`` (a transformers name)."""
    head_dim, heads, partial = draw(_geometry(rope_type))
    theta = draw(st.none() | thetas, label="theta")
    max_pos = draw(max_positions, label="max_position_embeddings")
    params: dict[str, Any] = {}
    top: dict[str, Any] = {"max_position_embeddings": max_pos}
    seq_len = None
    rotary = head_dim if rope_type == "proportional" else int(head_dim * (partial or 1.0))
    if rope_type in ("linear", "dynamic", "llama3"):
        params["factor"] = draw(factors, label="factor")
    if rope_type == "dynamic":
        seq_len = draw(st.none() | st.integers(0, max_pos) | st.integers(max_pos + 1, 64 * max_pos))
    if rope_type == "proportional" and draw(st.booleans()):
        params["factor"] = draw(factors)
    if rope_type in WITH_ORIGINAL:
        draw(_original(params, top, max_pos, at_most_max=rope_type != "llama3"))
    if rope_type == "yarn":
        draw(_yarn_params(params))
    if rope_type == "llama3":
        low = draw(st.floats(0.5, 4.0))
        params.update(low_freq_factor=low, high_freq_factor=low + draw(st.floats(0.5, 16.0)))
    if rope_type == "longrope":
        params.update(short_factor=draw(_factor_list(rotary // 2)), long_factor=draw(_factor_list(rotary // 2)))
        params["factor"] = draw(st.none() | factors)
        if draw(st.booleans()):
            params["attention_factor"] = draw(st.floats(0.5, 2.0))
        seq_len = draw(st.sampled_from([None, -1, 0, 1]), label="seq_len - L")
    return RopeSpec(rope_type, head_dim, heads, theta, partial, params, top, seq_len)


@st.composite
def hf_cases(draw, rope_types=HF_TYPES, styles=STYLES) -> HFCase:
    """A valid config of one of ``rope_types``, rendered in one of ``styles``."""
    rope_type = draw(st.sampled_from(rope_types), label="rope_type")
    style = draw(st.sampled_from(styles), label="style")
    spec = draw(rope_specs(rope_type))
    return render(spec, style, type_key=draw(st.sampled_from(["type", "rope_type"])))


# --- fuzzing: arbitrary JSON in the places a config reader looks --------------------------------------------------

TOP_KEYS = ("rope_parameters", "rope_scaling", "rope_theta", "rotary_emb_base", "partial_rotary_factor",
            "rotary_pct", "head_dim", "hidden_size", "num_attention_heads", "qk_rope_head_dim", "global_head_dim",
            "per_layer_config", "layer_types", "max_position_embeddings", "original_max_position_embeddings",
            "rope_local_base_freq", "model_type", "text_config")
ROPE_KEYS = ("rope_type", "type", "rope_theta", "partial_rotary_factor", "factor", "original_max_position_embeddings",
             "attention_factor", "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "truncate", "short_factor",
             "long_factor", "low_freq_factor", "high_freq_factor", "full_attention", "sliding_attention")

_plausible = (st.sampled_from(HF_TYPES + ("su", "axial", "full_attention", "sliding_attention", "phi3"))
              | st.integers(-4, 300) | st.sampled_from([0.0, 0.5, 1.0, 2.0, 1e4, -1.0, 1e300, 1e-300])
              | st.lists(st.floats(0.5, 4.0), min_size=1, max_size=64))
_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=6))
json_values = _plausible | st.recursive(
    _scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
    max_leaves=10)


@st.composite
def fuzzed_calls(draw) -> tuple[Any, Any, Any]:
    """``(config, layer_type, seq_len)``: a valid call whose config has up to four keys (top level, rope dict or a
    per-layer entry) replaced by arbitrary JSON or removed; now and then arbitrary arguments, or a config that is
    plain JSON."""
    case = draw(hf_cases())
    config = copy.deepcopy(case.config)
    for _ in range(draw(st.integers(1, 4))):
        rope = config.get("rope_parameters") or config.get("rope_scaling")
        targets = [config] + ([rope] if isinstance(rope, dict) else [])
        targets += [v for v in (rope.values() if isinstance(rope, dict) else ()) if isinstance(v, dict)]
        target = draw(st.sampled_from(targets))
        key = draw(st.sampled_from(TOP_KEYS if target is config else ROPE_KEYS))
        if draw(st.integers(0, 3)) == 3:  # hypothesis favours small integers: make the rarer branch the big one
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    if draw(st.integers(0, 19)) == 19:
        config = draw(json_values)
    layer_types = st.none() | st.sampled_from(["full_attention", "sliding_attention"]) | json_values
    layer_type = case.layer_type if draw(st.integers(0, 3)) < 3 else draw(layer_types)
    seq_len = case.seq_len if draw(st.integers(0, 3)) < 3 else draw(st.none() | st.integers(-2, 1 << 20) | json_values)
    return config, layer_type, seq_len


def spec_with(spec: RopeSpec, **changes: Any) -> RopeSpec:
    """``spec`` with fields replaced (a thin alias of :func:`dataclasses.replace`)."""
    return replace(spec, **changes)


def is_close(value: float, reference: float, rel: float) -> bool:
    """``|value - reference| <= rel * |reference|`` (exact for zeros)."""
    return math.isclose(value, reference, rel_tol=rel, abs_tol=0.0)


# --- config fragments shared by the tests of from_hf_config ---------------------------------------------------

def omega(rotary_dim: int, theta: float) -> np.ndarray:
    """theta^(-2i/d), written out here."""
    return np.array([theta ** (-2.0 * i / rotary_dim) for i in range(rotary_dim // 2)])


YARN = {"rope_type": "yarn", "factor": 32.0, "original_max_position_embeddings": 4096}
LONG = {"rope_type": "longrope", "short_factor": [1.0, 2.0], "long_factor": [4.0, 8.0]}
LONG_L = {**LONG, "original_max_position_embeddings": 64, "factor": 2.0}


def nested(full: dict, sliding: dict | None = None, **beside) -> dict:
    return {"head_dim": 64, "max_position_embeddings": 131072, "layer_types": ["sliding_attention", "full_attention"],
            "rope_parameters": {"sliding_attention": sliding or {"rope_type": "default"}, "full_attention": full,
                                **beside}}
