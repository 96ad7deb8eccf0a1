"""Comparing a backend result with the oracle: budget, NaN/Inf parity, the failure message and the repro note.

:class:`ConformanceFailure` is an ``AssertionError`` that knows the clause it enforces; every failure
message names the call and its arguments, the first failing index, the backend value, the oracle value
and the budget there, and carries a copy-pasteable repro (``exc.add_note``). Spec: [K-MSG-1], [N-NAN-1].
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from typing import Any

import numpy as np


class ConformanceFailure(AssertionError):
    """A backend result outside its budget; ``clause`` is the spec clause it violates, ``ratio`` the worst
    error/budget and ``error`` the largest absolute error when the failure is numeric (else None), ``hint`` a
    likely cause read from the shape of the error (else None). The report reads these ([K-REPORT-2])."""

    def __init__(self, clause: str, message: str, *, ratio: float | None = None, error: float | None = None) -> None:
        super().__init__(f"[{clause}] {message}")
        self.clause, self.ratio, self.error, self.hint = clause, ratio, error, None


class Ratio(float):
    """The worst error/budget of a comparison (a float), carrying ``error``, the largest absolute error.

    >>> r = Ratio(0.5, error=2e-7); (r, r.error, max(Ratio(0.1), r) is r)
    (0.5, 2e-07, True)
    """

    def __new__(cls, value: float, error: float = 0.0) -> Ratio:
        ratio = super().__new__(cls, value)
        ratio.error = float(error)
        return ratio


def _fmt(value: Any) -> str:
    return f"{float(value):.9g}"


def short_repr(value: Any) -> str:
    """A repr that pastes back into Python: arrays as ``np.array([...])`` with full float64 precision.

    >>> short_repr(np.array([0.5, 1.0]))
    'np.array([0.5, 1.0])'
    >>> import refrope
    >>> short_repr(refrope.Frequencies([0.5], attention_factor=2.0))
    'refrope.Frequencies(np.array([0.5]), attention_factor=2.0)'
    >>> short_repr(refrope.relpos.rerope(16))
    'refrope.relpos.rerope(window=16.0)'
    >>> short_repr(refrope.inv_freq("linear", 2, factor=2.0))
    "refrope.inv_freq('linear', 2, theta=10000.0, factor=2.0)"
    """
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r})"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "variant") and value.variant == "custom":
        return (f"refrope.Frequencies({short_repr(np.asarray(value.inv_freq))}, "
                f"attention_factor={value.attention_factor!r})")
    if hasattr(value, "variant") and hasattr(value, "params"):
        params = ", ".join(f"{k}={v!r}" for k, v in value.params.items() if k != "theta")
        sep = ", " if params else ""
        return f"refrope.inv_freq({value.variant!r}, {value.rotary_dim}, theta={value.params['theta']!r}{sep}{params})"
    text = repr(value)
    factory = text.split("(", 1)[0]
    if type(value).__module__.startswith("refrope.") and "(" in text:  # a map, query scale or bias: its factory
        for module in _FACTORY_MODULES:
            if getattr(importlib.import_module(module), factory, None) is not None:
                return f"{module}.{text}"
    return text


_FACTORY_MODULES = ("refrope.relpos", "refrope.query_scale", "refrope.bias")
"""The public modules whose factories rebuild the objects a call passes (their repr is the factory's call)."""


def call_text(function: str, args: tuple, kwargs: dict) -> str:
    """``function(arg, ..., key=value)`` with :func:`short_repr` of each argument.

    >>> call_text("apply_rope", (np.array([1.0]),), {"layout": "half"})
    "apply_rope(np.array([1.0]), layout='half')"
    """
    parts = [short_repr(a) for a in args] + [f"{k}={short_repr(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


_SHOW = {"cos_sin": "print([np.asarray(b.to_numpy(t), dtype=np.float64) - e for t, e in zip(actual, expected)])",
         "inv_freq": "print(actual, expected, sep='\\n')"}
"""The last line of a repro per function: the difference backend - oracle (default: both arrays' difference)."""


def repro_script(backend: Any, dtype: str, function: str, args: tuple, kwargs: dict, *, native: dict[int, str],
                 backend_kwargs: dict | None = None, oracle_kwargs: dict | None = None) -> str:
    """A script that loads ``backend``, makes the same call on it and on the oracle, and prints the difference.

    ``native`` maps the positions of the array arguments that go through ``b.to_backend(a, dtype)`` to their
    names; the oracle is evaluated on what the backend received (``b.to_numpy`` of them), as the suite does.
    Spec: [K-MSG-1].

    >>> import refrope
    >>> from refrope.backends import load_backend
    >>> print(repro_script(load_backend("refrope"), "float64", "apply_rope", (np.array([[1.0, 0.0]]), np.array([3]),
    ...       refrope.inv_freq("default", 2)), {"layout": "half"}, native={0: "x"}))
    import numpy as np, refrope
    from refrope.backends import load_backend
    b = load_backend('refrope')
    x = b.to_backend(np.array([[1.0, 0.0]]), 'float64')
    actual = b.function('apply_rope')(x, np.array([3]), refrope.inv_freq('default', 2, theta=10000.0), layout='half')
    expected = refrope.apply_rope(np.asarray(b.to_numpy(x), dtype=np.float64), np.array([3]), refrope.inv_freq('default', 2, theta=10000.0), layout='half')
    print(np.asarray(b.to_numpy(actual), dtype=np.float64) - expected)
    """  # noqa: E501
    device = getattr(backend, "device", None)
    lines = ["import numpy as np, refrope", "from refrope.backends import load_backend",
             f"b = load_backend({backend.source!r}{f', device={device!r}' if device else ''})"]
    lines += [f"{name} = b.to_backend({short_repr(args[i])}, {dtype!r})" for i, name in sorted(native.items())]

    def arguments(values: list[str], extra: dict | None) -> str:
        return ", ".join(values + [f"{k}={short_repr(v)}" for k, v in {**kwargs, **(extra or {})}.items()])

    given = [native[i] if i in native else short_repr(a) for i, a in enumerate(args)]
    received = [f"np.asarray(b.to_numpy({native[i]}), dtype=np.float64)" if i in native else short_repr(a)
                for i, a in enumerate(args)]
    lines.append(f"actual = b.function({function!r})({arguments(given, backend_kwargs)})")
    lines.append(f"expected = refrope.{function}({arguments(received, oracle_kwargs)})")
    lines.append(_SHOW.get(function, "print(np.asarray(b.to_numpy(actual), dtype=np.float64) - expected)"))
    return "\n".join(lines)


@contextmanager
def repro(backend: Any, dtype: str, call: str, *, script=None):
    """Attach a copy-pasteable reproduction of ``call`` on ``backend`` at ``dtype`` to any failure inside;
    ``script`` (a callable returning :func:`repro_script`'s text, run only on failure) makes it a full script with
    the backend call."""
    try:
        yield
    except Exception as exc:
        body = script() if script is not None else (
            "import numpy as np, refrope\nfrom refrope.backends import load_backend\n"
            f"b = load_backend({backend.source!r})\n"
            f"expected = refrope.{call}\n"
            f"# the backend: the same call on b, array arguments through b.to_backend(a, {dtype!r}),\n"
            "# the result through b.to_numpy; compared within the budget of docs/spec/numerics.md")
        exc.add_note(f"\n===== repro ({backend.name}, dtype={dtype}) =====\n{body}\n=====")
        raise


def assert_within(clause: str, *, call: str, actual: Any, expected: Any, budget: Any) -> float:
    """Assert ``|actual - expected| <= budget`` elementwise after shape and NaN/Inf parity; return max err/budget.

    A zero budget demands bit equality. ``actual`` may be any float dtype; compared in float64.

    >>> assert_within("K-X-1", call="f()", actual=np.array([1.0, 2.0]), expected=np.array([1.0, 2.5]),
    ...               budget=np.array([0.0, 1.0]))
    0.5
    """
    __tracebackhide__ = True
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ConformanceFailure(clause, f"{call}: backend shape {a.shape}, oracle shape {e.shape}")
    b = np.broadcast_to(np.asarray(budget, dtype=np.float64), e.shape)
    parity = (np.isnan(a) != np.isnan(e)) | (np.isinf(a) != np.isinf(e)) | (np.isinf(e) & (np.sign(a) != np.sign(e)))
    if parity.any():
        idx = tuple(int(i) for i in np.argwhere(parity)[0])
        raise ConformanceFailure(clause, f"{call}: NaN/Inf parity [N-NAN-1] broken at index {idx}: backend "
                                 f"{a[idx]!r}, oracle {e[idx]!r} ({int(parity.sum())} of {e.size} elements)")
    finite = np.isfinite(e)
    err = np.where(finite, np.abs(np.where(finite, a, 0.0) - np.where(finite, e, 0.0)), 0.0)
    bad = err > b
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        ratio = np.divide(err, b, out=np.full(err.shape, np.inf), where=b > 0)
        raise ConformanceFailure(
            clause, f"{call}: {int(bad.sum())} of {e.size} elements outside the budget; first at index {idx}: "
            f"backend {_fmt(a[idx])}, oracle {_fmt(e[idx])}, |error| {_fmt(err[idx])} > budget {_fmt(b[idx])}; "
            f"worst error/budget {_fmt(ratio[bad].max())}", ratio=float(ratio[bad].max()), error=float(err.max()))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, err / np.where(b > 0, b, 1.0), 0.0)
    return Ratio(ratio.max(initial=0.0), error=err.max(initial=0.0))
