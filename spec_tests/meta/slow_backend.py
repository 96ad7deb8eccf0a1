"""A failing backend whose every ``cos_sin`` call takes 0.1 s (positions + 1): unbounded, hypothesis would shrink
its failure for minutes. spec_tests/meta/test_shrink_bound.py checks that a run still ends in bounded time
([K-SHRINK-1]). Load it with ``--backend spec_tests.meta.slow_backend:slow_off_by_one``.
"""

from __future__ import annotations

import time

from .numpy_backends import NumpyBackend

__all__ = ["slow_off_by_one"]


class _Slow(NumpyBackend):
    def cos_sin(self, positions, freqs, *, layout="half", dtype="float32"):
        time.sleep(0.1)
        return super().cos_sin(positions, freqs, layout=layout, dtype=dtype)


slow_off_by_one = _Slow("numpy-slow-off-by-one", lambda p, f, lay: (p + 1, f, lay))
