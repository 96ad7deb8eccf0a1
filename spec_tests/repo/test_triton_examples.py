"""[GV-TRITON-1] [GV-TRITON-2] The Triton examples pass the spec suite under Triton's interpreter, on small sizes.

examples/triton_rope.py (``apply_rope``) and examples/triton_rerope_attention.py (blockwise ReRoPE-family
attention with logn) are refrope backends. Each is run, in a subprocess with ``TRITON_INTERPRET=1`` and
``examples/`` on ``PYTHONPATH``, through the conformance suite (spec_tests/conformance, hypothesis
profile ``dev``) and the golden-vector replay (spec_tests/test_vectors.py). The one vector case left to
compiled runs is the n = 8192 attention case (about 80 s in the interpreter). Skipped, with the reason,
when triton is not importable or the examples are not present (a wheel install).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spec_tests.paths import REPO_ROOT

ROOT = REPO_ROOT
EXAMPLES = ROOT / "examples"
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                       reason="triton is not installed (pip install -e '.[triton]')"),
    pytest.mark.skipif(not (EXAMPLES / "triton_rope.py").is_file(), reason="examples/ is not installed (a checkout)"),
]
SLOW_VECTOR = "spec_tests/test_vectors.py::test_replay_within_budget[attention_long_v2.manifest.json#1]"


def _pytest(*args: str, backend: str | None = None, path: tuple[Path, ...] = ()) -> tuple[int, str]:
    """Run pytest in a subprocess under the interpreter, with ``path`` and examples/ importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFROPE_", "PYTEST_"))}
    env.update(TRITON_INTERPRET="1", HYPOTHESIS_PROFILE="dev",
               PYTHONPATH=os.pathsep.join([*map(str, path), str(EXAMPLES), str(ROOT), env.get("PYTHONPATH", "")]))
    if backend:
        env["REFROPE_BACKEND"] = backend
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", *args]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout + result.stderr


def _counts(output: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|error|errors)", output)}


@pytest.mark.parametrize("backend, least", [("triton_rope", 40), ("triton_rerope_attention", 55)])
def test_conformance_suite_passes(backend, least):
    """[GV-TRITON-1] [GV-TRITON-2] The conformance suite (every layout, variant, relpos map, query scale, masks,
    GQA) passes against the Triton adapter in the interpreter; what it does not provide is skipped."""
    code, output = _pytest("spec_tests/conformance", "--backend", backend)
    counts = _counts(output)
    assert code == 0 and not counts.get("failed") and counts.get("passed", 0) >= least, output[-4000:]


@pytest.mark.parametrize("backend, least", [("triton_rope", 61), ("triton_rerope_attention", 74)])
def test_golden_vectors_replay(backend, least):
    """[GV-TRITON-1] [GV-TRITON-2] The golden vectors, ReRoPE-family attention with logn at positions near 2^20
    included, replay within budget through the Triton kernels (the same files the C example reads)."""
    code, output = _pytest("spec_tests/test_vectors.py", "-k", "replay", "--deselect", SLOW_VECTOR, backend=backend)
    counts = _counts(output)
    assert code == 0 and not counts.get("failed") and counts.get("passed", 0) >= least, output[-4000:]


def test_a_wrong_outer_rotation_is_caught(tmp_path):
    """[GV-TRITON-2] A copy of the attention kernel that rotates the keys of the outer piece at p_j instead of
    s p_j (the fixed ReRoPE rotation applied to the wrong side) fails the vectors: the replay can fail."""
    source = (EXAMPLES / "triton_rerope_attention.py").read_text()
    broken = source.replace("_rotate(ka, kb, slope * pk, omega, magnitude)", "_rotate(ka, kb, pk, omega, magnitude)")
    assert broken != source
    (tmp_path / "broken_attention.py").write_text(broken.replace(
        'name = "triton_rerope_attention"', 'name = "broken_attention"'))
    code, output = _pytest("spec_tests/test_vectors.py", "-x", "-k", "replay and attention_v2",
                           backend="broken_attention", path=(tmp_path,))
    assert code == 1 and "outside the budget on broken_attention" in output, output[-3000:]
