"""[K-MUT-1] [N-REF-1]: every mutant backend fails the conformance suite at the clause the docs list, and the
same focused probes pass on the correct torch reference.

Each mutant (spec_tests/meta/mutants/) names the conformance test that must catch it and its parameters;
the test body is run as written (``.hypothesis.inner_test``) with shrinking off, float32: first the test's explicit
plans (:mod:`spec_tests.branches`, the same inputs whatever else runs), then derandomized examples.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from spec_tests.paths import REPO_ROOT

pytest.importorskip("torch")

from refrope.backends import load_backend, supports  # noqa: E402

from ..conformance import (  # noqa: E402
    test_conformance_attention,
    test_conformance_freq,
    test_conformance_nd,
    test_conformance_rope,
    test_conformance_schemes,
)
from ..conformance.assertions import ConformanceFailure  # noqa: E402
from .mutants import MUTANTS  # noqa: E402

TESTS = {"apply_rope": test_conformance_rope.test_apply_rope, "cos_sin": test_conformance_rope.test_cos_sin,
         "inv_freq": test_conformance_freq.test_inv_freq, "attention": test_conformance_attention.test_attention,
         "apply_rope_nd": test_conformance_nd.test_apply_rope_nd, "apply_mrope": test_conformance_nd.test_apply_mrope,
         "apply_vision_rope": test_conformance_nd.test_apply_vision_rope,
         "attention_schemes": test_conformance_schemes.test_attention_schemes,
         "apply_xpos": test_conformance_schemes.test_apply_xpos,
         "dual_chunk_attention": test_conformance_schemes.test_dual_chunk_attention}
CALLS = {"attention_schemes": "attention"}  # the function a test calls, where its key differs
DOC = None if REPO_ROOT is None else REPO_ROOT / "docs" / "spec" / "conformance.md"
EXAMPLES = 60


def run_probe(backend, probe: dict, *, phases=(Phase.explicit, Phase.generate)) -> None:
    """Run the conformance test named by ``probe`` against ``backend`` (float32, no shrinking): its explicit plans,
    then (with ``Phase.generate`` in ``phases``) derandomized examples."""
    test = TESTS[probe["test"]]
    inner = test.hypothesis.inner_test
    kwargs = {key: value for key, value in probe.items() if key != "test"}
    if probe["test"] != "inv_freq":
        kwargs["dtype"] = "float32"

    def require(function, **features):
        reason = supports(backend, function, **features)
        assert reason is None, reason

    search = given(data=st.data())(inner)
    for plan in reversed(getattr(test, "refrope_plans", ())):
        search = example(data=plan)(search)
    search = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=list(phases),
                      report_multiple_bugs=False, suppress_health_check=list(HealthCheck))(search)
    search(backend=backend, require=require, record=lambda ratio: None, **kwargs)


def _module(name):
    return importlib.import_module(f"{__package__}.mutants.{name}")


def test_at_least_fifteen_mutants_listed_in_the_docs():
    """[K-MUT-1] At least 15 mutants exist, and the docs table lists exactly them with their catching clause."""
    rows = dict(re.findall(r"^\| `(\w+)` \| .* \| (K-[A-Z]+-\d+) \|$", DOC.read_text(encoding="utf-8"), re.M))
    assert len(MUTANTS) >= 15
    assert rows == {name: _module(name).CAUGHT_BY for name in MUTANTS}


@pytest.mark.parametrize("name", MUTANTS)
def test_mutant_is_caught(name):
    """[K-MUT-1] [K-MSG-1] [K-BRANCH-1] The mutant fails its probe with a ConformanceFailure of the listed clause (by
    the explicit plans alone where its test has them), and the failure carries the call, the index, both values, the
    budget and a repro note that runs as pasted."""
    module = _module(name)
    planned = hasattr(TESTS[module.PROBE["test"]], "refrope_plans")  # then the plans alone catch it, deterministically
    with pytest.raises(ConformanceFailure) as info:
        run_probe(load_backend(f"{__package__}.mutants.{name}"), module.PROBE,
                  phases=(Phase.explicit,) if planned else (Phase.explicit, Phase.generate))
    assert info.value.clause == module.CAUGHT_BY, str(info.value)
    message = str(info.value)
    assert f"{CALLS.get(module.PROBE['test'], module.PROBE['test'])}(" in message
    assert "index" in message or "modified" in message
    notes = [note for note in getattr(info.value, "__notes__", []) if "repro" in note and "load_backend" in note]
    assert notes
    script = notes[0].split("=====\n", 1)[1].rsplit("\n=====", 1)[0]
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(script, f"<repro of {name}>", "exec"), {})  # it pastes into Python: every name is qualified


@pytest.mark.parametrize("name", MUTANTS)
def test_probe_passes_on_the_reference(name):
    """[N-REF-1] The probe that catches the mutant passes on the correct torch reference (same inputs)."""
    run_probe(load_backend("torch"), _module(name).PROBE)
