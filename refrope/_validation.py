"""Small argument checks shared by the oracle.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right
kind, bad value) with a message that names the parameter and repeats the value.
No check warns, clips or coerces silently, and none mutates its input.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "check_int",
    "check_real",
    "check_bool",
    "check_choice",
    "real_array",
    "finite_real_array",
]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name: str, value: Any, *, minimum: int | None = None, even: bool = False) -> int:
    """Return ``value`` as an ``int``; reject bools, floats and out-of-range values.

    >>> check_int("rotary_dim", 8, minimum=2, even=True)
    8
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_short(value)} of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if even and value % 2:
        raise ValueError(f"{name} must be even, got {value}")
    return value


def check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` inside the given bounds.

    ``strict_minimum=True`` makes the lower bound exclusive.

    >>> check_real("theta", 10000, minimum=0.0, strict_minimum=True)
    10000.0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_short(value)} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value <= minimum if strict_minimum else value < minimum):
        relation = ">" if strict_minimum else ">="
        raise ValueError(f"{name} must be {relation} {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (Python or NumPy).

    >>> check_bool("truncate", False)
    False
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {_short(value)} of type {type(value).__name__}")
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``.

    >>> check_choice("layout", "half", ("half", "interleaved"))
    'half'
    """
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {choices}, got {_short(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def real_array(name: str, value: Any) -> np.ndarray:
    """View ``value`` as a real (integer or floating) NumPy array, without copying or casting.

    Booleans, complex numbers, strings and objects are rejected with ``TypeError``.

    >>> real_array("x", [1, 2]).dtype.kind
    'i'
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # e.g. ragged nested lists
        raise TypeError(f"{name} must be array-like of real numbers, got {_short(value)}") from exc
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (integer or floating), got dtype {arr.dtype}")
    return arr


def finite_real_array(name: str, value: Any) -> np.ndarray:
    """Like :func:`real_array` but returns float64 and rejects NaN and infinities.

    >>> finite_real_array("positions", [0, 3])
    array([0., 3.])
    """
    arr = real_array(name, value).astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))[0]
        raise ValueError(f"{name} must be finite, got {arr.ravel()[bad]} at flat index {bad}")
    return arr
