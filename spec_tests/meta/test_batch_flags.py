"""[K-BATCH-1] [K-SKIP-1]: the batch flags decide what the suite draws; a backend without them is skipped with the
flag named, one that declares them and raises on per-batch positions fails."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from refrope.backends import supports, validate  # noqa: E402
from refrope.backends.torch_ref import TorchReference  # noqa: E402

from ..branches import Plan, drawn  # noqa: E402
from ..conformance.strategies import rope_case  # noqa: E402
from ..conformance.strategies_attention import attention_case  # noqa: E402
from .test_mutants import run_probe  # noqa: E402


class _NoBatch(TorchReference):
    name = "torch-without-batch"
    capabilities = TorchReference.capabilities - {"batch", "batch_positions"}


class _RaisesOnRows(TorchReference):
    """Declares ``batch_positions`` but raises on positions with more than one axis."""

    name = "torch-raising-on-rows"

    def attention(self, q, k, v, freqs, **options):
        if np.ndim(options.get("positions_q")) > 1:
            raise ValueError("positions must be 1-D")
        return super().attention(q, k, v, freqs, **options)


def test_undeclared_flags_skip_with_the_flag_named():
    """[K-SKIP-1] [K-BATCH-1] A backend without the flags is told which capability it lacks."""
    backend = validate(_NoBatch(), "test")
    for function in ("apply_rope", "attention"):
        for flag in ("batch", "batch_positions"):
            assert f"capability '{flag}' missing" in supports(backend, function, **{flag: True})


def test_undeclared_flags_are_never_drawn():
    """[K-BATCH-1] Without the flags the strategies draw no batch axis, whatever a plan asks for."""
    for i in range(24):
        q = drawn(Plan(i), attention_case, "rope", flags=frozenset({"gqa"}))[0]
        assert q.ndim == 3
        x = drawn(Plan(i), rope_case, "default", offsets=True, flags=frozenset())[0]
        assert x.ndim == 2


def test_a_backend_raising_on_per_batch_positions_fails():
    """[K-BATCH-1] A control that declares ``batch_positions`` and raises on 2-D positions fails the attention test
    (before this flag was drawn, it passed)."""
    with pytest.raises(ValueError, match="positions must be 1-D"):
        run_probe(validate(_RaisesOnRows(), "test"), {"test": "attention", "case": "rope"})
