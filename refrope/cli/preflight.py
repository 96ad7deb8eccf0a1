"""The pre-flight of ``refrope check``: one tiny call per declared function on the backend's device, timed.

Before any test runs, each dtype makes a round trip through ``to_backend`` / ``to_numpy`` and each function
the backend declares is called once on a tiny input (then once more, timed). A backend that cannot run at all
(``--device cuda`` without CUDA, a wrong signature, a missing import inside a call) stops the check here with
one line naming the function, the device and the error, and exit code 2, instead of failing every test
slowly. The timings feed the run-time estimate. Values are not judged here: that is the suite's job.
Spec: docs/spec/conformance.md [K-CLI-1].
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

__all__ = ["PreflightError", "CALLS", "preflight", "estimate_seconds", "OTHER_TEST_S", "EXAMPLE_OVERHEAD_S"]

OTHER_TEST_S = 1.0
"""Estimated seconds per test that drives no backend function (the oracle's own suite: about 1,200 tests in
23 min on 2 busy cores)."""
EXAMPLE_OVERHEAD_S = {"apply_rope": 0.012, "cos_sin": 0.002, "inv_freq": 0.005, "attention": 0.02}
"""Estimated seconds per hypothesis example besides the backend call: drawing it, the oracle, the budget
(measured with the ``torch`` backend on a busy 2-core machine: 14, 2.4, 6 and 33 ms per example in all;
the default for an unlisted function: 0.01)."""


class PreflightError(RuntimeError):
    """The backend cannot run: the message is one line naming the call, the device and the error."""


def _layout(backend) -> str:
    from ..backends.protocol import supports
    from ..layouts import LAYOUTS

    return next((lay for lay in LAYOUTS if supports(backend, "apply_rope", layout=lay) is None), "half")


def _shape(result, shape: tuple[int, ...], backend) -> None:
    got = np.shape(backend.to_numpy(result))
    if got != shape:
        raise ValueError(f"returned shape {got}, expected {shape}")


def _apply_rope(backend, dtype: str, freqs) -> None:
    x = backend.to_backend(np.arange(8.0).reshape(2, 4) / 8, dtype)
    _shape(backend.function("apply_rope")(x, np.array([0, 1]), freqs, layout=_layout(backend), rotary_offset=0),
           (2, 4), backend)


def _cos_sin(backend, dtype: str, freqs) -> None:
    cos, sin = backend.function("cos_sin")(np.array([0, 1]), freqs, layout=_layout(backend), dtype=dtype)
    _shape(cos, (2, 4), backend)
    _shape(sin, (2, 4), backend)


def _inv_freq(backend, dtype: str, freqs) -> None:
    from ..backends.protocol import supports
    from ..frequencies.registry import VARIANTS

    variant = next((name for name, v in VARIANTS.items() if not any(p.required for p in v.params)
                    and supports(backend, "inv_freq", variant=name) is None), None)
    if variant is not None:
        backend.function("inv_freq")(variant, 4, theta=10000.0)


def _attention(backend, dtype: str, freqs) -> None:
    q, k, v = (backend.to_backend(np.full((1, 2, 4), 0.25), dtype) for _ in range(3))
    positions = np.arange(2)
    _shape(backend.function("attention")(q, k, v, freqs, positions_q=positions, positions_k=positions, relpos="rope",
                                         query_scale=None, causal=True), (1, 2, 4), backend)


CALLS: dict[str, Callable] = {"apply_rope": _apply_rope, "cos_sin": _cos_sin, "inv_freq": _inv_freq,
                              "attention": _attention}
"""The tiny call of each function, ``call(backend, dtype, freqs)``; a function without an entry is not called."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def preflight(backend) -> dict[str, float]:
    """Run the pre-flight; return the seconds of one call per function (``to_backend`` included).

    Raises :class:`PreflightError` with one line when the backend cannot run.

    >>> from refrope.backends import load_backend
    >>> sorted(preflight(load_backend("refrope")))
    ['apply_rope', 'attention', 'cos_sin', 'inv_freq']
    """
    from ..frequencies.registry import inv_freq

    device = f" on device {backend.device!r}" if getattr(backend, "device", None) else ""
    for dtype in backend.dtypes:
        try:
            back = np.asarray(backend.to_numpy(backend.to_backend(np.array([[0.5, -1.0]]), dtype)), dtype=np.float64)
            if back.shape != (1, 2):
                raise ValueError(f"the round trip returned shape {back.shape}, expected (1, 2)")
        except Exception as exc:
            raise PreflightError(f"{backend.name}{device}: to_backend / to_numpy at {dtype} failed: "
                                 f"{_one_line(exc)}") from exc
    freqs = inv_freq("default", 4)
    timings = {}
    for function in sorted(backend.functions):
        if function not in CALLS:
            continue
        dtype = backend.dtypes[0]
        try:
            CALLS[function](backend, dtype, freqs)  # the first call may initialise a device or compile
            start = time.perf_counter()
            CALLS[function](backend, dtype, freqs)
            timings[function] = time.perf_counter() - start
        except Exception as exc:
            raise PreflightError(f"{backend.name}{device}: a tiny {function} call at {dtype} failed: "
                                 f"{_one_line(exc)}") from exc
    return timings


def estimate_seconds(nodeids: list[str], timings: dict[str, float], examples: int) -> float:
    """Seconds the tests will take: per test of a declared function, ``examples`` times its pre-flight call
    and :data:`EXAMPLE_OVERHEAD_S`; a test of an undeclared function is skipped (0.01 s); any other test
    :data:`OTHER_TEST_S`. Shrinking a failure takes longer; the progress lines correct the estimate.

    >>> estimate_seconds(["t.py::test_apply_rope[float32-yarn-half]", "t.py::test_cos_sin[float32-half]"],
    ...                  {"apply_rope": 0.001}, 40)
    0.53
    """
    functions = sorted(set(CALLS) | set(timings), key=len, reverse=True)
    total = 0.0
    for nodeid in nodeids:
        name = nodeid.split("::")[-1].split("[")[0]
        function = next((f for f in functions if f in name), None)
        if function is None:
            total += OTHER_TEST_S
        elif function not in timings:
            total += 0.01
        else:
            total += examples * (timings[function] + EXAMPLE_OVERHEAD_S.get(function, 0.01))
    return round(total, 6)
