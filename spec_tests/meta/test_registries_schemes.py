"""[M-REG-1]: the bias registry is the one name table of the biases: the capabilities, the strategies, the torch
reference, the golden vectors and the docs' figures derive theirs from it."""

from __future__ import annotations

import importlib.util

import pytest

from refrope import bias as bs
from refrope import relpos
from refrope.backends import feature_values, oracle_backend
from refrope.vectors import cases_schemes

from ..conformance import scheme_strategies


def test_bias_tables_are_derived_from_the_registry():
    """[M-REG-1] feature_values("bias") is BIASES; the oracle declares every bias; the conformance cases cover every
    bias; each entry's factory builds an object of its class whose .name is its key."""
    assert feature_values("bias") == tuple(bs.BIASES)
    assert {f"bias:{name}" for name in bs.BIASES} <= oracle_backend().capabilities
    assert set(bs.BIASES) <= set(scheme_strategies.SCHEME_CASES)
    examples = {"alibi": (0.5,), "kerple_power": (1.0, 1.5), "kerple_log": (2.0, 2.0), "sandwich": (0.5, 8, 100.0)}
    assert set(examples) == set(bs.BIASES)
    for name, entry in bs.BIASES.items():
        example = entry.factory(*examples[name])
        assert len(examples[name]) == len(entry.params) and example.name == name
        assert type(example) is entry.cls and bs.name_of(example) == name


def test_the_golden_vectors_cover_every_bias_and_nope():
    """[M-REG-1] The scheme vectors use every bias of the registry and NoPE."""
    assert {case.bias[0] for case in cases_schemes.ATTENTION_SCHEME_CASES if case.bias} == set(bs.BIASES)
    assert "none" in {case.relpos[0] for case in cases_schemes.ATTENTION_SCHEME_CASES} and "none" in relpos.MAPS


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="the torch reference needs torch")
def test_the_torch_reference_implements_every_bias():
    """[M-REG-1] The torch reference's bias table is keyed by the registry's names, and its capabilities list them."""
    from refrope.backends import _torch_schemes, torch_ref

    assert set(_torch_schemes.BIASES) == set(bs.BIASES)
    assert {c.split(":", 1)[1] for c in torch_ref.TorchReference.capabilities if c.startswith("bias:")} == \
        set(bs.BIASES)
