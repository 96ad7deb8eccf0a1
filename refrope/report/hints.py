r"""Likely causes of a failing rotation, read from the shape of its error.

When a backend's ``apply_rope`` or ``cos_sin`` is outside its budget, the oracle is evaluated again with one
common defect put in on purpose: positions shifted by one (:math:`p \pm 1`), the sign of :math:`\sin` flipped
(a rotation by :math:`-p\,\omega`), another pair layout (NeoX ``"half"`` against GPT-J ``"interleaved"``:
vllm-project/vllm#747), the magnitude :math:`m` (``attention_factor``) left out. Each defect whose result
matches the backend's within (twice) the budget is named. A hint is a guess read off the numbers, printed
beside the failure, never a verdict. Spec: docs/spec/conformance.md [K-HINT-1].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..frequencies.base import Frequencies
from ..layouts import LAYOUTS
from ..rotary import apply_rope, cos_sin

__all__ = ["rope_hint", "cos_sin_hint"]


def _defects(positions: np.ndarray, freqs: Frequencies, layout: str):
    """``(description, positions, freqs, layout)`` for each common defect, the frequencies without magnitude
    only when the magnitude is not 1."""
    yield "positions off by one (the backend used p + 1)", positions + 1, freqs, layout
    yield "positions off by one (the backend used p - 1)", positions - 1, freqs, layout
    yield "sign of sin flipped (the backend rotates by -p*omega)", -positions, freqs, layout
    for other in LAYOUTS:
        if other != layout:
            yield f"layout swapped (the backend computed layout {other!r} for {layout!r})", positions, freqs, other
    if freqs.attention_factor != 1.0:
        plain = Frequencies(freqs.inv_freq, attention_factor=1.0)
        yield (f"magnitude missing (attention_factor m = {freqs.attention_factor:.6g} not applied)", positions, plain,
               layout)


def _matches(actual: np.ndarray, candidate: np.ndarray, budget: np.ndarray) -> bool:
    finite = np.isfinite(candidate) & np.isfinite(actual)
    return bool(finite.any()) and bool(np.all(np.abs(actual - candidate)[finite] <= 2.0 * budget[finite]))


def _hint(actual, expected, budget, compute: Callable, positions, freqs, layout) -> str | None:
    actual = np.asarray(actual, dtype=np.float64)
    budget = np.broadcast_to(np.asarray(budget, dtype=np.float64), actual.shape)
    if _matches(actual, np.asarray(expected, dtype=np.float64), budget):
        return None
    found = []
    with np.errstate(invalid="ignore", over="ignore"):
        for text, p, f, lay in _defects(np.asarray(positions, dtype=np.float64), freqs, layout):
            candidate = compute(p, f, lay)
            if candidate.shape == actual.shape and not np.array_equal(candidate, expected, equal_nan=True) \
                    and _matches(actual, candidate, budget):
                found.append(text)
    return " or ".join(found) or None


def rope_hint(actual, x, positions, freqs: Frequencies, *, layout: str, rotary_offset: int = 0,
              budget) -> str | None:
    """The common defects that reproduce a backend's ``apply_rope`` result ``actual`` within twice ``budget``,
    joined by "or"; None if none does (or if ``actual`` is within budget of the oracle).

    >>> f = Frequencies([1.0, 0.1])
    >>> x, p = np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([5])
    >>> rope_hint(apply_rope(x, p + 1, f), x, p, f, layout="half", budget=1e-12)
    'positions off by one (the backend used p + 1)'
    >>> rope_hint(apply_rope(x, p, f, layout="interleaved"), x, p, f, layout="half", budget=1e-12)
    "layout swapped (the backend computed layout 'interleaved' for 'half')"
    """
    x = np.asarray(x, dtype=np.float64)
    expected = apply_rope(x, positions, freqs, layout=layout, rotary_offset=rotary_offset)
    return _hint(actual, expected, budget,
                 lambda p, f, lay: apply_rope(x, p, f, layout=lay, rotary_offset=rotary_offset),
                 positions, freqs, layout)


def cos_sin_hint(cos, sin, positions, freqs: Frequencies, *, layout: str, budget) -> str | None:
    """The same for the two tables of ``cos_sin`` (compared as one array, cos then sin).

    >>> f = Frequencies([1.0, 0.1], attention_factor=1.5)
    >>> c, s = cos_sin(np.array([3]), Frequencies([1.0, 0.1]))
    >>> cos_sin_hint(c, s, np.array([3]), f, layout="half", budget=1e-12)
    'magnitude missing (attention_factor m = 1.5 not applied)'
    """
    actual = np.stack([np.asarray(cos, dtype=np.float64), np.asarray(sin, dtype=np.float64)])
    expected = np.stack(cos_sin(positions, freqs, layout=layout))
    budget = np.broadcast_to(np.asarray(budget, dtype=np.float64), expected.shape[1:])
    return _hint(actual, expected, np.stack([budget, budget]),
                 lambda p, f, lay: np.stack(cos_sin(p, f, layout=lay)), positions, freqs, layout)
