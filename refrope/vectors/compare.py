"""Why two sets of vector files differ: a changed input or case, or a changed expected value (and by how much).

:func:`refrope.vectors.verify` answers "are the bytes identical"; :func:`explain` answers "what changed",
which decides what to do ([GV-VERSION-1]): a changed expected value means the oracle's values changed,
so :data:`~refrope.vectors.FORMAT_VERSION` must be bumped. Differences of expected values only, with
identical inputs, within a few units in the last place (ULP) of each value or within a few units of
:math:`u\\,\\max|e|` of the case (normwise: an attention output with cancellation can move by millions of
its own ULPs when a BLAS kernel sums in another order), are the platform's rounding (NumPy's SIMD
``sin``/``cos``/``exp`` and OpenBLAS's kernels differ between CPUs), not a change of the oracle.
Spec: [GV-VERSION-1].
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["PLATFORM_ULP", "PLATFORM_NORMWISE", "Explanation", "ulp_distance", "normwise_distance", "explain",
           "advice"]

PLATFORM_ULP = 4
"""Largest ULP distance of an expected value that is read as platform rounding, not an oracle change."""
PLATFORM_NORMWISE = 64.0
"""Largest normwise distance of a case's expected values (:func:`normwise_distance`) read as platform rounding."""


def ulp_distance(a: np.ndarray, b: np.ndarray) -> int:
    """Largest distance in units in the last place between two float64 arrays of one shape (0 if equal).

    >>> ulp_distance(np.array([1.0, 2.0]), np.array([np.nextafter(1.0, 2.0), 2.0]))
    1
    """
    a = np.ascontiguousarray(a, dtype=np.float64).view(np.int64)
    b = np.ascontiguousarray(b, dtype=np.float64).view(np.int64)
    a = np.where(a < 0, np.int64(-(2**63)) - a, a)  # monotone integer order of the floats (-0 == +0)
    b = np.where(b < 0, np.int64(-(2**63)) - b, b)
    return int(np.max(np.abs(a.astype(object) - b.astype(object)), initial=0))


def normwise_distance(a: np.ndarray, b: np.ndarray) -> float:
    r""":math:`\max|a - b| / (u \max|a|)`, :math:`u = 2^{-53}`: the distance in units of the case's largest value
    (0 if equal, ``inf`` if ``a`` is all zero and ``b`` is not).

    >>> normwise_distance(np.array([4.0, 1e-20]), np.array([4.0, 2e-20])) < 1e-3
    True
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = float(np.max(np.abs(a - b), initial=0.0))
    scale = float(np.max(np.abs(a), initial=0.0)) * 2.0**-53
    return 0.0 if diff == 0.0 else (diff / scale if scale > 0 else float("inf"))


@dataclass
class Explanation:
    """What differs between committed and regenerated vectors."""

    missing: list[str] = field(default_factory=list)
    changed_cases: list[str] = field(default_factory=list)
    expected_ulp: dict[str, int] = field(default_factory=dict)
    expected_normwise: dict[str, float] = field(default_factory=dict)

    def moved(self) -> dict[str, int]:
        """The cases whose expected values moved beyond both platform allowances, with their ULP distance."""
        return {name: u for name, u in self.expected_ulp.items()
                if u > PLATFORM_ULP and self.expected_normwise.get(name, float("inf")) > PLATFORM_NORMWISE}

    @property
    def oracle_changed(self) -> bool:
        """True when some case's expected values moved by more than :data:`PLATFORM_ULP` (per value) and more
        than :data:`PLATFORM_NORMWISE` (normwise)."""
        return bool(self.moved())

    @property
    def platform_only(self) -> bool:
        """True when only expected values differ, each case within one of the platform allowances."""
        return not self.missing and not self.changed_cases and not self.oracle_changed


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b)
    return a == b


def explain(directory: str | Path, files: dict[str, bytes]) -> Explanation:
    """Compare the cases stored in ``directory`` with those of ``files`` (the output of :func:`~refrope.vectors.build`).

    Spec: [GV-VERSION-1].

    >>> import tempfile
    >>> explain(tempfile.mkdtemp(), {"rope_apply_v1.json": b""}).missing
    ['rope_apply_v1.json']
    """
    from .loading import load

    out = Explanation()
    directory = Path(directory)
    out.missing = sorted(name for name in files if not (directory / name).is_file())
    if out.missing:
        return out
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        fresh = {c.name: c for c in load(tmp)}
    try:
        stored = {c.name: c for c in load(directory)}
    except (ValueError, KeyError) as exc:
        out.changed_cases.append(f"committed files do not load: {exc}")
        return out
    for name in sorted(set(fresh) | set(stored)):
        a, b = stored.get(name), fresh.get(name)
        if a is None or b is None or a.test.keys() != b.test.keys() or a.comment != b.comment \
                or a.flags != b.flags or a.clauses != b.clauses or a.inputs.keys() != b.inputs.keys() \
                or not all(_same(a.inputs[k], b.inputs[k]) for k in a.inputs) or a.expected.shape != b.expected.shape:
            out.changed_cases.append(name)
            continue
        distance = ulp_distance(a.expected, b.expected)
        if distance:
            out.expected_ulp[name] = distance
            out.expected_normwise[name] = normwise_distance(a.expected, b.expected)
    return out


def advice(explanation: Explanation, version: int) -> str:
    """What the maintainer must do about the differences, in words (the up-to-date test prints this).

    >>> print(advice(Explanation(expected_ulp={"f.json#1": 1000}), 1))  # doctest: +ELLIPSIS
    the oracle's values changed (expected values of 1 case(s) moved by up to 1000 ULP: f.json#1): ...
    """
    export = "python -m refrope.vectors export spec_tests/vectors"
    if explanation.missing:
        return (f"no committed vectors for format version {version} ({', '.join(explanation.missing)}): run "
                f"`{export}`, remove the files of older versions, and commit")
    if explanation.changed_cases:
        shown = ", ".join(explanation.changed_cases[:5])
        return (f"the case list or the inputs changed ({len(explanation.changed_cases)} case(s): {shown}): bump "
                f"refrope.vectors.FORMAT_VERSION (now {version}), run `{export}`, remove the v{version} files, "
                "and record the change in docs/vectors/versioning.md")
    if explanation.oracle_changed:
        moved = explanation.moved()
        return (f"the oracle's values changed (expected values of {len(moved)} case(s) moved by up to "
                f"{max(moved.values())} ULP: {', '.join(sorted(moved)[:5])}): a changed oracle value must change "
                f"the format version: bump refrope.vectors.FORMAT_VERSION (now {version}), run `{export}`, remove "
                f"the v{version} files, and record the change in docs/vectors/versioning.md")
    return (f"only platform rounding: with identical inputs, every case's expected values differ by at most "
            f"{PLATFORM_ULP} ULP or {PLATFORM_NORMWISE:g} u max|expected| (NumPy's sin/cos/exp and OpenBLAS's kernels "
            "differ between CPUs); the committed files stay authoritative")
