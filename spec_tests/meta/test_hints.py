"""[K-HINT-1]: each likely-cause hint is read off the failure of a backend that has exactly that defect, and
a correct backend, or one with another defect, does not get it.

The broken backends are float32 NumPy adapters (spec_tests/meta/numpy_backends.py), one common defect each;
the inputs are fixed, with a YaRN magnitude m != 1 so that a missing magnitude shows.
"""

from __future__ import annotations

import numpy as np
import pytest

import refrope
from refrope.backends import load_backend

from ..conformance.assertions import ConformanceFailure
from ..conformance.checks import check_apply_rope, check_cos_sin

FREQS = refrope.inv_freq("yarn", 8, theta=10000.0, factor=4.0, original_max_position_embeddings=64)
X = np.random.default_rng(3).standard_normal((3, 10))
POSITIONS = np.array([5, 70, 900])
HINTS = {"off_by_one": "positions off by one (the backend used p + 1)",
         "sin_flipped": "sign of sin flipped",
         "layout_swapped": "layout swapped (the backend computed layout 'interleaved' for 'half')",
         "magnitude_missing": "magnitude missing (attention_factor m = "}


def _backend(name: str):
    return load_backend(f"spec_tests.meta.numpy_backends:{name}")


@pytest.mark.parametrize("name", sorted(HINTS))
def test_apply_rope_failure_names_its_likely_cause(name):
    """[K-HINT-1] [K-MSG-1] apply_rope of a backend with one defect fails K-APPLY-1 with that defect as its only
    likely cause, on the exception (``hint``) and in its notes."""
    assert FREQS.attention_factor != 1.0
    with pytest.raises(ConformanceFailure) as info:
        check_apply_rope(_backend(name), "float32", X, POSITIONS, FREQS, layout="half", rotary_offset=1)
    assert info.value.clause == "K-APPLY-1"
    assert info.value.hint is not None and info.value.hint.startswith(HINTS[name]), info.value.hint
    assert " or " not in info.value.hint
    assert any(note == f"likely cause: {info.value.hint}" for note in info.value.__notes__)


@pytest.mark.parametrize("name", sorted(HINTS))
def test_cos_sin_failure_names_its_likely_cause(name):
    """[K-HINT-1] cos_sin of a backend with one defect fails K-COSSIN-1 with that defect as its likely cause."""
    with pytest.raises(ConformanceFailure) as info:
        check_cos_sin(_backend(name), "float32", POSITIONS, FREQS, layout="half")
    assert info.value.clause == "K-COSSIN-1"
    assert info.value.hint is not None and info.value.hint.startswith(HINTS[name]), info.value.hint


def test_no_hint_for_a_correct_backend_or_an_unknown_defect():
    """[K-HINT-1] The correct backend passes; a defect none of the hints describes (a rotation by 2 p omega)
    fails without a hint rather than with a wrong one."""
    from .numpy_backends import NumpyBackend

    assert check_apply_rope(_backend("correct"), "float32", X, POSITIONS, FREQS, layout="half") <= 1.0
    from refrope.backends.protocol import validate

    doubled = validate(NumpyBackend("numpy-doubled", lambda p, f, lay: (2 * p, f, lay)), "doubled")
    with pytest.raises(ConformanceFailure) as info:
        check_apply_rope(doubled, "float32", X, POSITIONS, FREQS, layout="half")
    assert info.value.hint is None and not any(n.startswith("likely cause") for n in info.value.__notes__)


def test_ratio_and_absolute_error_travel_with_the_failure():
    """[K-REPORT-2] A failure carries its worst error/budget (far above 1 for a positions + 1 bug) and its largest
    absolute error, as the report records them."""
    with pytest.raises(ConformanceFailure) as info:
        check_apply_rope(_backend("off_by_one"), "float32", X, POSITIONS, FREQS, layout="half")
    expected = refrope.apply_rope(X.astype(np.float32).astype(np.float64), POSITIONS, FREQS)
    actual = refrope.apply_rope(X.astype(np.float32).astype(np.float64), POSITIONS + 1, FREQS).astype(np.float32)
    assert info.value.ratio > 1e3
    assert info.value.error == pytest.approx(np.abs(actual - expected).max(), rel=1e-12)
    assert f"{info.value.ratio:.9g}" in str(info.value)
