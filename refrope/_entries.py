"""The entry of an object registry (relative-position maps, query scales, biases): one shape for all of them.

Spec: docs/spec/meta.md [M-REG-1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Entry"]


@dataclass(frozen=True)
class Entry:
    """A registry entry: the object's name, its factory, its class, the factory's parameters, its spec clause,
    and ``draw(chooser, reach)``: a valid object whose lengths (window, training length) lie within ``reach``
    (the suite's strategy; the chooser is a :class:`refrope.frequencies.params.Chooser`)."""

    name: str
    factory: Any  # callable: the factory
    cls: type
    params: tuple[str, ...]
    clause: str
    draw: Any  # callable: draw(chooser, reach) -> object
