"""[K-PROTO-1] [K-PROTO-2] [K-SKIP-1] [K-FILES-1] [N-ORACLE-1], and the budget formulas of docs/spec/numerics.md
checked against values computed by hand ([N-ROPE-1], [N-COSSIN-1], [N-FREQ-1], [N-ATTN-1], [N-ATTN-2], [N-NAN-1])."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import refrope
from refrope import budgets as tol
from refrope.backends import BUNDLED, load_backend, supports
from spec_tests.paths import SUITE

from ..conformance.assertions import ConformanceFailure, assert_within
from ..conformance.checks import check_apply_rope, check_attention, check_cos_sin, check_inv_freq
from ..conftest import id_matches, normalized_id, read_id_file

ROOT = SUITE.parent
U32 = 2.0**-24


def _module(**overrides):
    """A minimal valid backend module (float64, apply_rope by the oracle), with ``overrides`` applied."""
    mod = types.ModuleType("fake_backend")
    mod.name, mod.dtypes, mod.capabilities, mod.angle_dtype = "fake", ("float64",), {"apply_rope"}, "float64"
    mod.to_backend = lambda a, dtype: np.array(a, dtype=np.float64)
    mod.to_numpy = np.asarray
    mod.apply_rope = refrope.apply_rope
    for key, value in overrides.items():
        if value is None:
            delattr(mod, key)
        else:
            setattr(mod, key, value)
    return mod


@pytest.mark.parametrize("overrides, error, words", [
    ({"name": None}, TypeError, "lacks the attribute 'name'"),
    ({"dtypes": ("float8",)}, ValueError, "dtypes"),
    ({"dtypes": "float32"}, ValueError, "dtypes"),
    ({"capabilities": {"apply_rope", "rotate"}}, ValueError, "'rotate'"),
    ({"capabilities": ["apply_rope"]}, TypeError, "capabilities"),
    ({"capabilities": {"apply_rope", "attention"}}, ValueError, "no callable attention"),
    ({"angle_dtype": "int8"}, ValueError, "angle_dtype"),
    ({"to_numpy": 3}, TypeError, "to_numpy"),
])
def test_bad_declarations_are_rejected(monkeypatch, overrides, error, words):
    """[K-PROTO-1] A backend with a missing or bad declaration is rejected with an error naming it."""
    monkeypatch.setitem(sys.modules, "fake_backend", _module(**overrides))
    with pytest.raises(error, match=words.replace("(", r"\(")):
        load_backend("fake_backend")


def test_a_valid_module_loads_with_its_functions(monkeypatch):
    """[K-PROTO-1] [K-PROTO-2] A valid module loads by module path and by ``pkg.mod:attr``; only listed
    functions are exposed."""
    mod = _module()
    mod.inner = _module(name="inner")
    monkeypatch.setitem(sys.modules, "fake_backend", mod)
    b = load_backend("fake_backend")
    assert (b.name, b.dtypes, sorted(b.functions)) == ("fake", ("float64",), ["apply_rope"])
    assert load_backend("fake_backend:inner").name == "inner"


def test_selection_order_and_device(monkeypatch):
    """[K-PROTO-2] --backend beats REFROPE_BACKEND beats the default refrope; devices go to make_backend."""
    monkeypatch.delenv("REFROPE_BACKEND", raising=False)
    monkeypatch.delenv("REFROPE_DEVICE", raising=False)
    assert load_backend().name == "refrope"
    monkeypatch.setitem(sys.modules, "fake_backend", _module())
    monkeypatch.setenv("REFROPE_BACKEND", "fake_backend")
    assert load_backend().name == "fake"
    assert load_backend("refrope").name == "refrope"
    with pytest.raises(ValueError, match="takes no device"):
        load_backend("fake_backend", device="cuda")
    with pytest.raises(ValueError, match="CPU only"):
        load_backend("refrope", device="cuda")
    with pytest.raises(ValueError, match="no_such_backend_xyz"):
        load_backend("no_such_backend_xyz")
    assert set(BUNDLED) == {"refrope", "torch", "transformers", "rotary_embedding_torch", "ggml"}
    if importlib.util.find_spec("torch") is not None:
        assert load_backend("torch", device="cpu").versions["device"] == "cpu"
        monkeypatch.setenv("REFROPE_DEVICE", "cpu")
        assert load_backend("torch").versions["device"] == "cpu"


def test_missing_capabilities_give_reasons_naming_them(monkeypatch):
    """[K-SKIP-1] supports() returns None when supported, else a reason naming the missing capability; maps and
    scales other than plain RoPE need their entry, layouts and variants only when the family is listed."""
    monkeypatch.setitem(sys.modules, "fake_backend", _module(capabilities={"apply_rope", "layout:half"}))
    b = load_backend("fake_backend")
    assert supports(b, "apply_rope", layout="half") is None
    assert "'layout:interleaved' missing" in supports(b, "apply_rope", layout="interleaved")
    assert "'attention'" in supports(b, "attention")
    assert "'rotary_offset' missing" in supports(b, "apply_rope", rotary_offset=True)
    assert supports(load_backend("refrope"), "attention", relpos="rerope", gqa=True) is None
    monkeypatch.setitem(sys.modules, "fake_attention", _module(capabilities={"attention"}, attention=refrope.attention))
    plain = load_backend("fake_attention")
    assert supports(plain, "attention", relpos="rope", layout="interleaved") is None
    assert "'relpos:rerope' missing" in supports(plain, "attention", relpos="rerope")
    assert "'query_scale:logn' missing" in supports(plain, "attention", query_scale="logn")


def test_skip_and_xfail_ids(tmp_path):
    """[K-FILES-1] Ids are normalized from spec_tests/ on, match exactly, up to '::' / '[', or as a '*' pattern;
    '#' starts the reason."""
    f = tmp_path / "x.txt"
    f.write_text("# comment\nconformance/a.py::t  # why\n\nb.py\n")
    assert read_id_file(str(f)) == [("conformance/a.py::t", "why"), ("b.py", "")]
    assert normalized_id("../x/site-packages/spec_tests/conformance/a.py::t[float32]") == "conformance/a.py::t[float32]"
    assert normalized_id("a.py::t[f]", Path("/x/spec_tests/conformance/a.py")) == "conformance/a.py::t[f]"
    assert id_matches("conformance/a.py::t", "conformance/a.py::t[float32]")
    assert id_matches("b.py", "b.py::test_x") and not id_matches("b.py", "b.pyc::x")
    assert (id_matches("c.py::t[float16-*]", "c.py::t[float16-yarn-half]")
            and not id_matches("c.py::t[f*]", "c.py::u[f]"))


def test_xfails_file_end_to_end(tmp_path):
    """[K-FILES-1] [K-SKIP-1] A pytest run marks listed tests xfail and reports ids that match nothing."""
    xfails, skips = tmp_path / "xfails.txt", tmp_path / "skips.txt"
    xfails.write_text("conformance/test_conformance_freq.py::test_inv_freq[default]  # a finding\n"
                      "conformance/test_conformance_freq.py::test_no_such_test\n")
    skips.write_text("conformance/test_conformance_freq.py::test_inv_freq[mixed_radix]  # too slow here\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "spec_tests/conformance/test_conformance_freq.py",
                          "-k", "default or mixed_radix", "-q", "-p", "no:cacheprovider", "-rsxX",
                          "--xfails-file", str(xfails), "--skips-file", str(skips)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "match no collected test: conformance/test_conformance_freq.py::test_no_such_test" in run.stdout
    assert "1 skipped" in run.stdout and "too slow here" in run.stdout
    assert "1 xfailed" in run.stdout and "a finding" in run.stdout


def test_the_oracle_passes_its_own_checks_bit_for_bit():
    """[N-ORACLE-1] The oracle as a backend (float64) reproduces apply_rope, cos_sin and inv_freq exactly
    (error/budget 0) and attention within the float64 budget."""
    b = load_backend("refrope")
    f = refrope.inv_freq("yarn", 8, theta=500000.0, factor=16.0, original_max_position_embeddings=4096)
    x = np.random.default_rng(1).standard_normal((3, 11))
    assert check_apply_rope(b, "float64", x, np.array([0, 70000, 2**20]), f, layout="interleaved_to_half",
                            rotary_offset=2) == 0.0
    assert check_cos_sin(b, "float64", np.array([5, 2**19]), f, layout="interleaved") == 0.0
    assert check_inv_freq(b, "llama3", 16, 1e6, {"factor": 8.0, "original_max_position_embeddings": 8192,
                                                 "low_freq_factor": 1.0, "high_freq_factor": 4.0}) == 0.0
    q, k, v = np.random.default_rng(2).standard_normal((3, 2, 4, 10))
    ratio = check_attention(b, "float64", q, k, v, f, positions_q=np.arange(4), positions_k=np.arange(4),
                            relpos=refrope.relpos.rerope(2), query_scale=None, causal=True)
    assert 0.0 <= ratio < 1.0  # its default method "auto" against the "direct" definition: rounding only


def test_rope_budget_by_hand():
    """[N-ROPE-1] [N-ROPE-2] A 3-4-5 pair at p = 1000, omega = 0.5, m = 2, float16 with float32 angles:
    2 * 5 * (8 * 2^-11 + 4 * 2^-24 * 501) + 4 * 2^-24 on both pair outputs; 0 on pass-through."""
    f = refrope.Frequencies([0.5], attention_factor=2.0)
    b = tol.rope_budget(np.array([[7.0, 3.0, 4.0]]), [1000], f, dtype="float16", angle_dtype="float32",
                        layout="interleaved", rotary_offset=1)
    pair = 2 * 5 * (8 * 2.0**-11 + 4 * U32 * 501) + 4 * 2.0**-24
    assert b.tolist() == [[0.0, pair, pair]]
    b2 = tol.rope_budget(np.array([[3.0, 0.0, 0.0, 4.0]]), [0], [1.0, 1.0], dtype="float32", angle_dtype="float32",
                         layout="interleaved_to_half")
    # input pairs (3, 0) and (0, 4) are written to outputs (0, 2) and (1, 3)
    r3, r4 = 3 * 12 * U32 + 4 * 2.0**-149, 4 * 12 * U32 + 4 * 2.0**-149
    np.testing.assert_allclose(b2, [[r3, r4, r3, r4]], rtol=1e-15)


def test_cos_sin_and_freq_budgets_by_hand():
    """[N-COSSIN-1] [N-FREQ-1] cos_sin: m (8u + 4u_a (1 + |phi|)) + eta; inv_freq: (16 + |ln w'|) u_a w' + eta_a,
    plus 2 dw w on the blended pairs of Llama 3 and YaRN."""
    f = refrope.Frequencies([0.25], attention_factor=1.5)
    b = tol.cos_sin_budget([8], f, dtype="bfloat16", angle_dtype="float32", layout="half")
    np.testing.assert_allclose(b, [[1.5 * (8 * 2.0**-8 + 4 * U32 * 3) + 2.0**-133] * 2], rtol=1e-15)
    d = refrope.inv_freq("default", 4, theta=100.0)  # omega = (1, 0.1)
    np.testing.assert_allclose(tol.inv_freq_budget(d, angle_dtype="float32"),
                               [16 * U32 + 2.0**-149, (16 + math.log(10)) * U32 * 0.1 + 2.0**-149], rtol=1e-14)
    # Llama 3, theta = 1e4, d = 4: omega = (1, 0.01); L = 2 pi * 250 puts L/lambda = 2.5 at pair 1 (blended)
    ll = refrope.inv_freq("llama3", 4, theta=1e4, factor=4.0, original_max_position_embeddings=500 * math.pi,
                          low_freq_factor=1.0, high_freq_factor=4.0)
    w = ll.inv_freq[1]  # 0.01/4 + 0.5 (0.01 - 0.01/4)
    assert w == pytest.approx(0.00625)
    ds = (4 * (math.log(100) + 5) + 1) * U32 / 3 + U32
    assert tol.inv_freq_budget(ll, angle_dtype="float32")[1] == pytest.approx(
        (16 + abs(math.log(w))) * U32 * w + 2 * ds * 0.01 + 2.0**-149, rel=1e-12)
    # YaRN, truncate=False, d = 8, theta = 1e4, L = 2 pi * 1e3, beta 100 / 1: c(r) = 8 ln(1000 / r) / (2 ln 1e4),
    # so the ramp runs from l = 1 to h = 3 and pair 2 is half-way
    y = refrope.inv_freq("yarn", 8, theta=1e4, factor=8.0, original_max_position_embeddings=2000 * math.pi,
                         beta_fast=100.0, beta_slow=1.0, truncate=False)
    assert y.inv_freq[2] == pytest.approx(0.01 / 8 + 0.5 * (0.01 - 0.01 / 8))
    dw = 2 * U32 * (2 + 1) / 2 + 2 * U32
    assert tol.inv_freq_budget(y, angle_dtype="float32")[2] == pytest.approx(
        (16 + abs(math.log(y.inv_freq[2]))) * U32 * y.inv_freq[2] + 2 * dw * 0.01 + 2.0**-149, rel=1e-12)


def test_attention_budget_and_nmse_by_hand():
    """[N-ATTN-1] [N-ATTN-2] One query, two keys, float32: B = 2 V Delta + (8 + 2) u V with Delta from the norms;
    NMSE = sum (a - e)^2 / sum e^2 and its budget 1/4 sum B^2 / sum e^2."""
    q = np.array([[[3.0, 4.0, 1.0]]])
    k = np.array([[[1.0, 0.0, 2.0], [0.0, 2.0, 0.0]]])
    v = np.array([[[1.0], [-3.0]]])
    b = tol.attention_budget(q, k, v, rotary_dim=2, magnitude=2.0, logit_scale=0.5, max_angle=10.0, max_logit=9.0,
                             dtype="float32", angle_dtype="float32")
    eps_r = 8 * U32 + 4 * U32 * 11
    delta = 0.5 * (4 * 5 * 2 * (2 * eps_r + 4 * U32) + 1 * 2 * 3 * U32) + 8 * U32 * 9
    assert b.shape == (1, 1, 1)
    assert b[0, 0, 0] == pytest.approx(2 * 3 * delta + 10 * U32 * 3 + 2.0**-149, rel=1e-14)
    moved = tol.attention_budget(q[..., [2, 0, 1]], k[..., [2, 0, 1]], v, rotary_dim=2, magnitude=2.0,
                                 logit_scale=0.5, max_angle=10.0, max_logit=9.0, dtype="float32",
                                 angle_dtype="float32", rotary_offset=1)  # the same head, rotary slice [1, 3)
    assert moved[0, 0, 0] == b[0, 0, 0]
    assert tol.nmse([1.0, 3.0], [1.0, 2.0]) == pytest.approx(1 / 5)
    assert tol.nmse_budget([0.5, 1.0], [1.0, 2.0]) == pytest.approx(0.25 * 1.25 / 5)


@pytest.mark.parametrize("actual, clause_text", [
    ([np.nan, 1.0], "NaN/Inf parity"), ([1.0, np.inf], "NaN/Inf parity"), ([-np.inf, 1.0], "NaN/Inf parity"),
    ([np.inf, 1.5], "outside the budget"),
])
def test_nan_inf_parity(actual, clause_text):
    """[N-NAN-1] [K-MSG-1] NaN, inf and inf sign must match before values are compared; messages name the
    index, both values and the budget."""
    with pytest.raises(ConformanceFailure, match=clause_text) as info:
        assert_within("K-X-1", call="f(1)", actual=np.array(actual), expected=np.array([np.inf, 1.0]),
                      budget=np.array([0.0, 0.1]))
    assert info.value.clause == "K-X-1" and "f(1)" in str(info.value) and "index" in str(info.value)
    assert assert_within("K-X-1", call="f(1)", actual=np.array([np.inf, 1.05]), expected=np.array([np.inf, 1.0]),
                         budget=np.array([0.0, 0.1])) == pytest.approx(0.5)
