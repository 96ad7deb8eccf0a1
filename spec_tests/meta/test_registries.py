"""[M-REG-1]: the registries are the one name table; the strategies, the golden vectors, the budgets, the config
readers and the adapters derive theirs from them."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refrope
from refrope import budgets, query_scale, relpos
from refrope.backends import feature_values, oracle_backend
from refrope.frequencies.registry import VARIANTS
from refrope.vectors import cases_schemes, generate

from .. import attn_strategies, strategies
from ..conformance import strategies_attention as conformance_strategies


def test_variant_tables_are_derived_from_the_registry():
    """[M-REG-1] The transformers map, the β-base variants and the strategies' variant list come from VARIANTS."""
    from refrope.configs import hf_reading

    assert hf_reading.VARIANT_OF == {v.hf_type: name for name, v in VARIANTS.items() if v.hf_type is not None}
    assert refrope.beta.RADIX_VARIANTS == tuple(name for name, v in VARIANTS.items() if v.radices is not None)
    assert strategies.VARIANT_NAMES == sorted(VARIANTS)
    assert feature_values("variant") == tuple(VARIANTS)


def test_the_strategies_draw_through_the_registry(monkeypatch):
    """[M-REG-1] variant_params draws with the registry entry's draw: a toy entry's draw is what the strategy gives."""
    toy = replace(VARIANTS["linear"], name="toy", draw=lambda d, c: {"factor": c.real(3.0, 3.0, label="toy")})
    monkeypatch.setattr(refrope, "VARIANTS", MappingProxyType({**VARIANTS, "toy": toy}))
    seen = []

    @settings(max_examples=3, database=None)
    @given(st.data())
    def run(data):
        seen.append(data.draw(strategies.variant_params("toy", 8)))

    run()
    assert seen and all(params == {"factor": 3.0} for params in seen)


def test_map_and_scale_tables_are_derived_from_the_registries():
    """[M-REG-1] Every map and scale is in the attention strategies, the conformance cases and the oracle's
    capabilities; each object's .name is its registry key and its class the entry's."""
    assert attn_strategies.MAP_NAMES == tuple(relpos.MAPS)
    assert set(relpos.MAPS) | set(query_scale.SCALES) <= set(conformance_strategies.ATTENTION_CASES)
    caps = oracle_backend().capabilities
    assert {f"relpos:{name}" for name in relpos.MAPS} | {f"query_scale:{name}" for name in query_scale.SCALES} <= caps
    for name, entry in relpos.MAPS.items():
        example = entry.factory(*[0.5] * len(entry.params)) if name == "inv_leaky_rerope" else \
            entry.factory(*[2.0] * len(entry.params))
        assert example.name == name and type(example) is entry.cls and relpos.resolve(example) is example
    for name, entry in query_scale.SCALES.items():
        example = entry.factory(*[2.0] * len(entry.params))
        assert query_scale.name_of(example) == name and type(example) is entry.cls


def test_the_golden_vectors_cover_every_registry_entry():
    """[M-REG-1] The vectors' configurations name every variant, and each case cites its variant's clause."""
    assert {cfg.variant for cfg in generate.FREQS.values()} == set(VARIANTS)
    cited = {clause for case in generate.ROPE_CASES for clause in case.clauses}
    assert {v.clause for v in VARIANTS.values()} - {"F-DEFAULT-1"} <= cited
    attention = generate.ATTENTION_CASES + cases_schemes.ATTENTION_SCHEME_CASES
    assert {case.relpos[0] for case in attention} == set(relpos.MAPS)
    assert {case.query_scale[0] for case in generate.ATTENTION_CASES if case.query_scale} == set(query_scale.SCALES)


@pytest.mark.parametrize("variant", [name for name, v in VARIANTS.items() if v.blend_error is not None])
def test_the_budget_blend_term_is_the_registry_entry(variant):
    """[M-REG-1] [N-FREQ-1] inv_freq_budget adds 2 blend_error of the variant's entry to the base term."""
    freqs = refrope.inv_freq(variant, 64, theta=500000.0, **_active(variant))
    u = budgets.unit_roundoff("float32")
    base = budgets.inv_freq_budget(refrope.Frequencies(freqs.inv_freq), angle_dtype="float32")
    params = VARIANTS[variant].checked({k: v for k, v in freqs.params.items() if k != "theta"})
    term = 2.0 * VARIANTS[variant].blend_error(64, 500000.0, params, u)
    assert np.array_equal(budgets.inv_freq_budget(freqs, angle_dtype="float32"), base + term)
    assert np.any(term > 0)


def _active(variant: str) -> dict:
    """Parameters for which the variant's ramp is active at d = 64, theta = 5e5."""
    return {"yarn": {"factor": 8.0, "original_max_position_embeddings": 4096},
            "ntk_by_parts": {"factor": 8.0, "original_max_position_embeddings": 4096},
            "dynamic_yarn": {"original_max_position_embeddings": 4096, "seq_len": 32768},
            "llama3": {"factor": 8.0, "original_max_position_embeddings": 8192, "low_freq_factor": 1.0,
                       "high_freq_factor": 4.0}}[variant]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="the torch reference needs torch")
def test_the_torch_reference_implements_every_map_and_scale():
    """[M-REG-1] The torch reference's tables are keyed by registry names: every map and scale, and variants of
    the registry only; its capabilities are those tables."""
    from refrope.backends import torch_ref

    assert set(torch_ref.RELPOS_MAPS) == set(relpos.MAPS)
    assert set(torch_ref.QUERY_SCALES) == set(query_scale.SCALES)
    assert set(torch_ref.FREQUENCY_FUNCTIONS) <= set(VARIANTS)
    caps = torch_ref.TorchReference.capabilities
    assert {c.split(":", 1)[1] for c in caps if c.startswith("variant:")} == set(torch_ref.FREQUENCY_FUNCTIONS)


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="the adapter needs transformers")
def test_the_transformers_adapter_maps_the_registry_hf_types():
    """[M-REG-1] The transformers adapter's variant map is the registry's hf_type."""
    from refrope.backends import transformers as adapter

    assert adapter.HF_NAMES == {name: v.hf_type for name, v in VARIANTS.items() if v.hf_type is not None}
