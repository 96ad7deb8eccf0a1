"""What a registry entry is made of: :class:`Param`, :class:`Variant`, the parameter checks, the :class:`Chooser`.

A parameter's default, meaning, source and check live in its :class:`Param` only; the variant
functions take every parameter, already checked, as a keyword without a default.
Spec: docs/spec/frequencies.md [F-FREQ-2], [F-ALL-1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .._validation import check_bool, check_int, check_real

__all__ = ["REQUIRED", "Param", "Variant", "Chooser", "real_at_least_one", "positive", "above_one", "unit_interval",
           "real", "boolean", "count", "unchecked"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Sentinel default of a parameter that must be passed."""


def real_at_least_one(name: str, value: Any) -> float:
    """A real :math:`\\ge 1` (an extension factor :math:`k`: PI, NTK, YaRN, llama3 forbid :math:`k < 1`).

    >>> real_at_least_one("factor", 4)
    4.0
    """
    return check_real(name, value, minimum=1.0)


def positive(name: str, value: Any) -> float:
    """A finite real :math:`> 0` (lengths, betas, magnitudes).

    >>> positive("original_max_position_embeddings", 4096)
    4096.0
    """
    return check_real(name, value, minimum=0.0, strict_minimum=True)


def above_one(name: str, value: Any) -> float:
    """A finite real :math:`> 1` (a length whose logarithm divides).

    >>> above_one("original_max_position_embeddings", 4096)
    4096.0
    """
    return check_real(name, value, minimum=1.0, strict_minimum=True)


def unit_interval(name: str, value: Any) -> float:
    """A real in :math:`[0, 1]` (a blend weight, an exponent, a fraction).

    >>> unit_interval("b", 0.625)
    0.625
    """
    return check_real(name, value, minimum=0.0, maximum=1.0)


def real(name: str, value: Any) -> float:
    """Any finite real.

    >>> real("mscale", -1)
    -1.0
    """
    return check_real(name, value)


def boolean(name: str, value: Any) -> bool:
    """A bool (Python or NumPy).

    >>> boolean("truncate", False)
    False
    """
    return check_bool(name, value)


def count(name: str, value: Any) -> int:
    """An integer :math:`\\ge 0` (a sequence length).

    >>> count("seq_len", 8192)
    8192
    """
    return check_int(name, value, minimum=0)


def unchecked(name: str, value: Any) -> Any:
    """No check here: the variant function checks it against the rotary dimension (factor lists)."""
    return value


@dataclass(frozen=True)
class Param:
    """One documented parameter of a variant: its name, default (or :data:`REQUIRED`), meaning, source and
    ``check(name, value)``, which returns the checked value or raises ``TypeError``/``ValueError``.
    ``None`` (the default of an optional parameter) is never checked."""

    name: str
    default: Any
    meaning: str
    source: str = ""
    check: Callable[[str, Any], Any] = unchecked

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Chooser(Protocol):
    """Where a variant's :attr:`Variant.draw` gets its choices: the spec suite drives it with hypothesis.

    Each method returns one value; ``favour`` lists values drawn often (famous configurations), and
    ``label`` names the branch or quantity so a run can report which branches it reached.
    """

    def real(self, low: float, high: float, *, favour: Sequence[float] = (), label: str) -> float: ...

    def integer(self, low: int, high: int, *, favour: Sequence[int] = (), label: str) -> int: ...

    def boolean(self, *, label: str) -> bool: ...

    def choice(self, options: Sequence[Any], *, label: str) -> Any: ...

    def reals(self, n: int, low: float, high: float, *, label: str) -> list[float]: ...


@dataclass(frozen=True)
class Variant:
    """A registry entry of :data:`refrope.VARIANTS`.

    Attributes
    ----------
    name, clause, source, summary : str
        The key, the spec clause it implements, its source, a one-line formula.
    function : Callable
        ``function(rotary_dim, theta, **params, xp=FAST) -> (inv_freq, attention_factor)``; every parameter of
        ``params`` is passed, checked, as a keyword; ``xp`` is the arithmetic (:mod:`refrope.precision.namespaces`)
        the formula is evaluated in, ``inv_freq`` is in its number type ([P-EXACT-1]).
    params : tuple of Param
    neutral : Callable
        ``neutral(rotary_dim)``: parameters for which the variant is ``default`` exactly ([F-ALL-1]).
    dynamic : bool
        The frequencies depend on the current length (``seq_len``).
    hf_type : str or None
        transformers' ``rope_type`` for this variant (None: transformers has none).
    config_types : tuple of str
        Other config ``rope_type`` names read as this variant (vLLM's ``ntk``, ``deepseek_yarn``, ...).
    config_key : str or None
        A rope-dict key whose (non-null) presence selects this variant among those sharing a rope type
        (``alpha`` makes ``dynamic`` NTK-aware; ``mixed_b`` makes ``ntk`` mixed).
    family : str
        The docs page of its family (``docs/families/<family>.md``).
    radices : Callable or None
        ``radices(rotary_dim, **params)``: the β-base radix factors :math:`\\lambda_m` (:mod:`refrope.beta`);
        None outside the NTK family.
    draw : Callable
        ``draw(rotary_dim, chooser) -> params``: valid parameters, every branch reachable (the suite's strategy).
    blend_error : Callable or None
        ``blend_error(rotary_dim, theta, params, u) -> (d/2,)``: :math:`\\delta w_i\\,\\omega_i`, the error of a
        ramp's blend weight computed with unit roundoff ``u``, times the unscaled frequency ([N-FREQ-1]).
    """

    name: str
    function: Callable[..., tuple[np.ndarray, float]]
    params: tuple[Param, ...]
    clause: str
    source: str
    summary: str
    neutral: Callable[[int], dict] = field(default=lambda d: {})
    dynamic: bool = False
    hf_type: str | None = None
    config_types: tuple[str, ...] = ()
    config_key: str | None = None
    family: str = ""
    radices: Callable[..., np.ndarray] | None = None
    draw: Callable[[int, Chooser], dict] = field(default=lambda d, c: {})
    blend_error: Callable[[int, float, Mapping[str, Any], float], np.ndarray] | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def checked(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter, defaults filled in, each through its ``Param.check`` (None stays None).

        Unknown or missing parameters raise ``TypeError``.
        """
        unknown = sorted(set(params) - set(self.param_names))
        if unknown:
            raise TypeError(f"variant {self.name!r} got unexpected parameter(s) {unknown}; "
                            f"it takes {list(self.param_names)}")
        missing = [p.name for p in self.params if p.required and params.get(p.name) is None]
        if missing:
            raise TypeError(f"variant {self.name!r} requires parameter(s) {missing}")
        out = {}
        for p in self.params:
            value = params.get(p.name, p.default)
            out[p.name] = None if value is None else p.check(p.name, value)
        return out
