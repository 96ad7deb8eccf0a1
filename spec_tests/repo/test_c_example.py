"""[GV-C-1] The C example (examples/c/rope_check.c) compiles warning-free as C99 and checks itself against the vectors.

It has its own naive RoPE and reads the flat text vectors, so it proves a non-Python backend can use
the files with the same budget. Skipped, with the reason, only when no C compiler is installed or the
examples are not present (a wheel install).
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest

from refrope import vectors
from refrope.vectors.files import file_names
from spec_tests.paths import REPO_ROOT

ROOT = REPO_ROOT
SOURCE = ROOT / "examples" / "c" / "rope_check.c"
COMMITTED = ROOT / "spec_tests" / "vectors"
CC = shutil.which("gcc") or shutil.which("cc")
pytestmark = [pytest.mark.skipif(CC is None, reason="no C compiler (gcc or cc) on PATH"),
              pytest.mark.skipif(not SOURCE.is_file(), reason="examples/c is not installed (run from a checkout)")]


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("c") / "rope_check"
    cmd = [CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", str(exe), str(SOURCE), "-lm"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    return exe


@pytest.fixture(scope="module")
def text_vectors(tmp_path_factory) -> Path:
    name = file_names()[1]
    if (COMMITTED / name).is_file():
        return COMMITTED / name
    out = tmp_path_factory.mktemp("vectors")
    vectors.export(out)
    return out / name


def _run(program: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", [[], ["--float"]], ids=["double", "float"])
def test_c_example_passes_every_vector(program, text_vectors, mode):
    """[GV-C-1] Compiled with gcc -std=c99 -O2 -Wall -Werror, it passes every case with angles in double and in
    float."""
    result = _run(program, *mode, str(text_vectors))
    n = int(text_vectors.read_text().split(maxsplit=4)[3])  # the header's numberOfTests
    assert n > 50 and result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{n} passed, 0 failed")


def _tamper(text_vectors: Path, tmp_path: Path, which: str) -> Path:
    """A copy with one expected value changed: a rotated coordinate by 1e-3, or a pass-through one by one ULP."""
    tokens = text_vectors.read_text().split("\n")
    for number, line in enumerate(tokens):
        if line.startswith("test ") and (which == "rotated" or line.split()[4] != "0"):
            expected = tokens[number + 4].split()
            assert expected[0] == "expected"
            offset = int(line.split()[4])
            j = 1 + offset if which == "rotated" else offset  # row 0: first rotated / last pass-through column
            value = float.fromhex(expected[j])
            expected[j] = (value + 1e-3 if which == "rotated" else math.nextafter(value, math.inf)).hex()
            tokens[number + 4] = " ".join(expected)
            tc = line.split()[1]
            break
    path = tmp_path / f"tampered_{tc}.txt"
    path.write_text("\n".join(tokens))
    return path


@pytest.mark.parametrize("which", ["rotated", "pass_through"])
def test_c_example_fails_on_a_wrong_value(program, text_vectors, tmp_path, which):
    """[GV-C-1] One wrong expected value (1e-3 off, or a pass-through coordinate one ULP off) fails that test
    only: "1 failed", exit status 1, and the tcId on stderr."""
    path = _tamper(text_vectors, tmp_path, which)
    result = _run(program, str(path))
    tc = path.stem.split("_")[1]
    assert result.returncode == 1 and ", 1 failed" in result.stdout, result.stdout + result.stderr
    assert result.stderr.startswith(f"tcId {tc}:")


def test_c_example_rejects_a_malformed_file(program, tmp_path):
    """[GV-C-1] A file that is not in the text format exits with status 2 and says what it expected."""
    bad = tmp_path / "bad.txt"
    bad.write_text("refrope-vectors apply_rope 1 1\ntest 1 diagonal 2 0 2 1 float32 0x0p+0 0x1p+0\n")
    result = _run(program, str(bad))
    assert result.returncode == 2 and "expected a layout" in result.stderr
