"""The keywords of the attention functions, written once.

:func:`refrope.attention`, :func:`refrope.attention_scores`, :func:`refrope.attention_probs`,
:func:`refrope.decode_attention` and :func:`refrope.attention_vjp` take these keywords with these defaults;
each function's signature is built from this table (:func:`takes`), and :func:`resolve` fills the
defaults and rejects an unknown keyword with ``TypeError`` naming it. Spec: docs/spec/attention.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Keyword", "KEYWORDS", "METHOD", "takes", "required", "resolve"]


@dataclass(frozen=True)
class Keyword:
    """One keyword: its name, default and annotation (as text, for the signature)."""

    name: str
    default: Any
    annotation: str


KEYWORDS = (
    Keyword("positions_q", None, "Any"),
    Keyword("positions_k", None, "Any"),
    Keyword("relpos", "rope", "Any"),
    Keyword("layout", "half", "str"),
    Keyword("rotary_offset", 0, "int"),
    Keyword("causal", True, "bool"),
    Keyword("sliding_window", None, "float | None"),
    Keyword("key_mask", None, "Any"),
    Keyword("scale", None, "float | None"),
    Keyword("query_scale", None, "Any"),
    Keyword("mscale_all_dim", None, "float | None"),
    Keyword("bias", None, "Any"),
    Keyword("chunk_size", None, "int | None"),
    Keyword("block_size", None, "int | None"),
    Keyword("precision", "fast", "str"),
)
"""What one attention problem is made of, after the arrays and the frequencies (:func:`setup`)."""

METHOD = Keyword("method", "auto", "str")
"""How it is computed (``auto``, ``direct``, ``two_pass``, ``decode``); changes rounding only."""


def takes(positional: tuple[str, ...], keywords: tuple[Keyword, ...], extra: tuple[Keyword, ...] = ()) -> Callable:
    """Give the decorated ``f(*positional, **options)`` the signature ``f(*positional, *, <keywords>)``.

    ``extra`` keywords (such as ``decode_attention``'s ``position``) come first.
    """
    params = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in positional]
    params += [inspect.Parameter(kw.name, inspect.Parameter.KEYWORD_ONLY, annotation=kw.annotation,
                                 default=inspect.Parameter.empty if kw.default is _REQUIRED else kw.default)
               for kw in (*extra, *keywords)]

    def decorate(function: Callable) -> Callable:
        function.__signature__ = inspect.Signature(params)
        function.__refrope_keywords__ = (*extra, *keywords)
        return function

    return decorate


_REQUIRED = object()


def required(name: str, annotation: str = "Any") -> Keyword:
    """A keyword without a default (``decode_attention``'s ``position``)."""
    return Keyword(name, _REQUIRED, annotation)


def resolve(function: str, options: Mapping[str, Any], keywords: tuple[Keyword, ...]) -> dict[str, Any]:
    """``options`` with every keyword of ``keywords`` present (defaults filled in).

    >>> resolve("attention", {"causal": False}, KEYWORDS)["relpos"]
    'rope'
    >>> resolve("attention", {"casual": False}, KEYWORDS)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: attention() got an unexpected keyword argument 'casual'; it takes positions_q, ..., precision
    """
    names = [kw.name for kw in keywords]
    unknown = [name for name in options if name not in names]
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}; it takes {', '.join(names)}")
    out = {}
    for kw in keywords:
        if kw.name in options:
            out[kw.name] = options[kw.name]
        elif kw.default is _REQUIRED:
            raise TypeError(f"{function}() missing required keyword argument {kw.name!r}")
        else:
            out[kw.name] = kw.default
    return out
