"""Every model type of the installed transformers with a ``*RotaryEmbedding``: its default config, the rotary
module built on it (no weights, no network), and what :func:`refrope.from_hf_config` says about its dict.

A rotary class is paired with the configuration class its ``__init__`` annotates (searched among the model
type's config and its sub-configs, falling back to ``get_text_config()`` when the annotation names the
composite). It is a *text* rotary when ``forward`` takes ``(x, position_ids)`` and neither the class nor its
configuration is a vision one; the others (vision towers, audio time) are checked separately. The
expectation is computed at run time from the module: ``inv_freq`` / ``attention_scaling`` buffers (one per
layer type), the sinusoid table of GPT-J-style modules, and, for a module with ``mrope_section``, its
``forward`` at distinct (t, h, w) positions compared with the pair-to-axis map refrope returns
(``refrope.mrope_axes`` with the result's ``mrope_section`` / ``mrope_mode``, or ``engine_axes`` when the mode
names an engine table), so an M-RoPE reading added later turns a rejection into agreement without editing the
test. A module that stores ``inv_freq`` permuted (Ernie-4.5-VL pre-rotates it for its recomposition) is compared
as the same set of frequencies in refrope's decreasing natural order, and its forward decides the order.
"""

from __future__ import annotations

import collections
import functools
import importlib
import importlib.util
import inspect
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES, model_type_to_module_name

import refrope

RTOL = 5e-6  # [H-MAP-1]
_POSITIONS = (5, 7, 11)  # distinct t, h, w for the M-RoPE check


@dataclass(frozen=True)
class Case:
    """One (model type, sub-config, rotary class) pair; ``config`` is the object the module was built on."""

    model_type: str
    path: str
    rotary: str
    text: bool
    config: Any
    module: Any
    built_from: dict  # the dict the config was built from (its to_dict())


@dataclass(frozen=True)
class Outcome:
    """``kind`` is "agree", "rejected" (ValueError: ``detail`` is its message) or "differ" (a silent difference)."""

    case: Case
    layer_type: str | None
    kind: str
    detail: str = ""


def _quiet(function, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args)


def _is_text(name: str, cls: type, annotation: str) -> bool:
    forward = list(inspect.signature(cls.forward).parameters)[1:3]
    vision = ("Vision" in annotation and "Text" not in annotation) or "ViT" in name or (
        "Vision" in name and not name.endswith("TextRotaryEmbedding"))
    return forward == ["x", "position_ids"] and not vision


def _rotaries(model_type: str) -> list[tuple[str, type, str]]:
    module_name = model_type_to_module_name(model_type)
    name = f"transformers.models.{module_name}.modeling_{module_name}"
    try:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or "RotaryEmbedding" not in Path(spec.origin).read_text("utf-8"):
            return []  # reading the file is much cheaper than importing it
        module = importlib.import_module(name)
    except ImportError:
        return []
    found = []
    for name, cls in vars(module).items():
        if inspect.isclass(cls) and name.endswith("RotaryEmbedding") and cls.__module__ == module.__name__:
            params = list(inspect.signature(cls.__init__).parameters.values())
            annotation = params[1].annotation if len(params) > 1 else None
            found.append((name, cls, getattr(annotation, "__name__", str(annotation))))
    return found


def _subconfigs(config, path=""):
    yield path, config
    for name in getattr(config, "sub_configs", None) or {}:
        sub = getattr(config, name, None)
        if sub is not None and hasattr(sub, "to_dict"):
            yield from _subconfigs(sub, f"{path}.{name}")


@functools.lru_cache(maxsize=1)
def discover() -> tuple[Case, ...]:
    """Every buildable (model type, config, rotary) pair of the installed transformers (cached)."""
    transformers.utils.logging.set_verbosity_error()
    cases = []
    for model_type in sorted(CONFIG_MAPPING_NAMES):
        rotaries = _rotaries(model_type)
        if not rotaries:
            continue
        try:
            top = _quiet(getattr(transformers, CONFIG_MAPPING_NAMES[model_type]))
        except Exception:  # noqa: BLE001 - a config class transformers itself cannot build has no case
            continue
        for path, sub in _subconfigs(top):
            for name, cls, annotation in rotaries:
                if type(sub).__name__ != annotation:
                    continue
                for config in (sub, sub.get_text_config()):
                    try:
                        module = _quiet(cls, config)
                    except Exception:  # noqa: BLE001 - annotated with the composite, built on its text config
                        continue
                    built_from = config.to_dict()
                    cases.append(Case(model_type, path, name, _is_text(name, cls, annotation), config, module,
                                      built_from))
                    break
    return tuple(cases)


def module_frequencies(module) -> dict:
    """``{layer_type or None: (inv_freq float64, attention_scaling)}`` from the module's buffers."""
    out = {}
    for name, buffer in module.named_buffers(recurse=False):
        if name.endswith("inv_freq") and not name.endswith(("original_inv_freq", "long_inv_freq")):
            prefix = name[: -len("inv_freq")]
            scaling = float(getattr(module, prefix + "attention_scaling", 1.0))
            out[prefix[:-1] if prefix else None] = (buffer.to(torch.float64).numpy(), scaling)
    return out


def _tolerance(ours: refrope.Frequencies) -> float:
    if ours.variant != "llama3":
        return RTOL
    k, low, high = (ours.params[key] for key in ("factor", "low_freq_factor", "high_freq_factor"))
    return RTOL * max(1.0, (k - 1.0) * high / (high - low) / 10.0)


def _compare(ours: refrope.Frequencies, inv: np.ndarray, scaling: float) -> str:
    """"" when equal within [H-MAP-1]'s tolerance, else what differs."""
    if ours.inv_freq.shape != inv.shape:
        return f"{ours.inv_freq.shape[0]} frequencies, transformers {inv.shape[0]}"
    rtol = _tolerance(ours)
    relative = np.divide(np.abs(ours.inv_freq - inv), np.abs(inv), out=np.zeros_like(inv), where=inv != 0)
    worst = float(relative.max(initial=0.0))
    if worst > rtol or np.any((inv == 0) != (ours.inv_freq == 0)):
        return f"inv_freq differs by {worst:.3g} relative"
    if abs(ours.attention_factor - scaling) > rtol * scaling:
        return f"attention_factor {ours.attention_factor} vs attention_scaling {scaling}"
    return ""


def _compare_table(ours: refrope.Frequencies, table: torch.Tensor) -> str:
    """GPT-J-style ``embed_positions`` rows ``[sin(p w), cos(p w)]``, float32: within its rounding."""
    table = table.to(torch.float64).numpy()
    if table.shape[1] != ours.rotary_dim:
        return f"{ours.rotary_dim // 2} frequencies, transformers {table.shape[1] // 2}"
    rows = np.unique(np.linspace(0, table.shape[0] - 1, 9).astype(int))
    angles = rows[:, None] * ours.inv_freq
    error = np.abs(table[rows] - np.concatenate([np.sin(angles), np.cos(angles)], axis=1))
    bound = np.concatenate([angles, angles], axis=1) * 2e-6 + 2e-7  # float32 angle and sin/cos rounding
    return "" if np.all(error <= bound) else f"sinusoid table differs by up to {error.max():.3g}"


def _mrope_check(ours: refrope.Frequencies, module, section: Any) -> str:
    """The module's cos/sin at distinct (t, h, w) against refrope's pair-to-axis map (issue-13 contract)."""
    mrope_axes = getattr(refrope, "mrope_axes", None)
    if mrope_axes is None or ours.params.get("mrope_section") is None:
        return f"the module is M-RoPE (mrope_section {list(section)}) but the result has no mrope_section"
    mode = ours.params.get("mrope_mode", "blocked")
    if mode in refrope.multimodal.ENGINE_TABLES:   # an engine table's pair-to-stream map, streams (t, h, w)
        axes = refrope.multimodal.engine_axes(mode, ours.params["mrope_section"], rotary_dim=ours.rotary_dim)
    else:
        axes = np.asarray(mrope_axes(ours.params["mrope_section"], mode))
    angles = np.asarray(_POSITIONS, dtype=np.float64)[axes] * ours.inv_freq
    positions = torch.tensor(_POSITIONS).view(3, 1, 1)
    cos, sin = _quiet(module, torch.zeros(1, 1, 4), positions)
    cos, sin = (t.to(torch.float64).numpy().reshape(-1) for t in (cos, sin))
    m = ours.attention_factor
    for layout in ((lambda v: np.concatenate([v, v])), (lambda v: np.repeat(v, 2))):
        want_cos, want_sin = layout(np.cos(angles) * m), layout(np.sin(angles) * m)
        if want_cos.shape == cos.shape and np.allclose(cos, want_cos, atol=1e-5) and np.allclose(sin, want_sin,
                                                                                                 atol=1e-5):
            return ""
    return "cos/sin at distinct (t, h, w) positions differ from refrope's mrope_axes"


def judge(case: Case, config: dict, layer_type: str | None, expected: tuple) -> Outcome:
    """What from_hf_config(config, layer_type=...) gives against the module's values ``expected``."""
    try:
        ours = refrope.from_hf_config(config, layer_type=layer_type)
    except ValueError as exc:
        return Outcome(case, layer_type, "rejected", str(exc))
    except Exception as exc:  # noqa: BLE001 - anything but a ValueError is a failure of the reader
        return Outcome(case, layer_type, "differ", f"{type(exc).__name__}: {exc}")
    section = getattr(case.module, "mrope_section", None)
    if isinstance(section, dict):
        section = section.get(layer_type)
    if expected[0] == "table":
        problem = _compare_table(ours, expected[1])
    else:
        problem = _compare(ours, *expected[1:])
        if problem and section and not _compare(ours, np.sort(expected[1])[::-1].copy(), expected[2]) and np.all(
                np.diff(ours.inv_freq) <= 0):
            problem = ""  # the module stores inv_freq permuted (Ernie-4.5-VL): its forward, checked next, decides
        if not problem and section:
            problem = _mrope_check(ours, case.module, section)
    return Outcome(case, layer_type, "differ" if problem else "agree", problem)


def expectations(case: Case) -> dict:
    """``{layer_type: ("buffers", inv, scaling) | ("table", embed_positions)}`` of the case's module."""
    found = {key: ("buffers", *value) for key, value in module_frequencies(case.module).items()}
    if not found and isinstance(getattr(case.module, "embed_positions", None), torch.Tensor):
        found[None] = ("table", case.module.embed_positions)
    return found


def outcomes(cases, config_of=lambda case: case.built_from) -> list[Outcome]:
    """One :class:`Outcome` per (case, layer type); ``config_of`` picks the dict handed to from_hf_config."""
    return [judge(case, config_of(case), layer_type, expected)
            for case in cases for layer_type, expected in expectations(case).items()]


def by_model_type(results: list[Outcome]) -> dict[str, str]:
    """Per model type: "differ" if any of its outcomes differs, else "rejected" if any is, else "agree"."""
    kinds = collections.defaultdict(set)
    for outcome in results:
        kinds[outcome.case.model_type].add(outcome.kind)
    return {name: next(k for k in ("differ", "rejected", "agree") if k in found) for name, found in kinds.items()}


DERIVED = ("head_dim",)
"""Keys a configuration class derives when config.json omits them (dropped to get a raw-like dict)."""


@functools.lru_cache(maxsize=1)
def raw_cases() -> tuple[Case, ...]:
    """The text cases rebuilt from their dict without :data:`DERIVED` keys: the configuration class derives them
    again its own way (``qk_rope_head_dim``, ``kv_channels``, ...), as it does for a config.json that omits them."""
    out = []
    for case in discover():
        raw = {key: value for key, value in case.built_from.items() if key not in DERIVED}
        if not case.text or raw == case.built_from:
            continue
        try:
            config = _quiet(type(case.config).from_dict, raw)
            module = _quiet(type(case.module), config)
        except Exception:  # noqa: BLE001 - a class that needs the key has no raw form
            continue
        out.append(Case(case.model_type, case.path, case.rotary, True, config, module, raw))
    return tuple(out)
