"""The registry of relative-position maps, :func:`resolve` and the matrix :func:`relative_positions`.

Spec: docs/spec/relpos.md, clauses [L-MAP-1], [L-MATRIX-1].
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from .._entries import Entry
from .._validation import finite_real_array
from .maps import (
    RelPos,
    _InvLeakyReRoPE,
    _LeakyReRoPE,
    _Linear,
    _NoPE,
    _ReRoPE,
    _RoPE,
    inv_leaky_rerope,
    leaky_rerope,
    linear,
    none,
    rerope,
    rope,
)

__all__ = ["MapEntry", "MAPS", "resolve", "relative_positions"]


def resolve(relpos: Any) -> RelPos:
    """Return ``relpos`` if it is a map; ``"rope"`` gives :func:`rope`, ``"none"`` :func:`none`; anything else raises.

    Spec: [L-MAP-1], [L-MAP-7].

    >>> resolve("rope") == rope()
    True
    """
    if isinstance(relpos, RelPos) and MAPS.get(relpos.name, _NO_ENTRY).cls is type(relpos):
        return relpos
    if isinstance(relpos, str):
        if relpos in _STRINGS:
            return _STRINGS[relpos]()
        raise ValueError(f"relpos must be 'rope' or a map from refrope.relpos ('none' for NoPE), got {relpos!r}")
    raise TypeError(f"relpos must be 'rope' or a map from refrope.relpos (rope(), rerope(w), ..., 'none' for NoPE), "
                    f"got {relpos!r}")


_STRINGS = {"rope": rope, "none": none}


MapEntry = Entry
"""The entry of :data:`MAPS` (``refrope._entries.Entry``)."""


def _drawn_window(c, reach: float) -> float:
    if c.choice(("integer", "real"), label="window kind") == "integer":
        return float(c.integer(0, int(reach), favour=(1,), label="window"))
    return c.real(0.0, float(reach), label="window")


MAPS = MappingProxyType({e.name: e for e in (
    MapEntry("rope", rope, _RoPE, (), "L-MAP-1", lambda c, reach: rope()),
    MapEntry("linear", linear, _Linear, ("factor",), "L-MAP-2",
             lambda c, reach: linear(c.real(0.25, 16.0, favour=(2.0, 4.0), label="linear factor"))),
    MapEntry("rerope", rerope, _ReRoPE, ("window",), "L-MAP-3", lambda c, reach: rerope(_drawn_window(c, reach))),
    MapEntry("leaky_rerope", leaky_rerope, _LeakyReRoPE, ("window", "factor"), "L-MAP-4",
             lambda c, reach: leaky_rerope(_drawn_window(c, reach),
                                           c.real(1.0, 64.0, favour=(4.0, 16.0), label="leaky factor"))),
    MapEntry("inv_leaky_rerope", inv_leaky_rerope, _InvLeakyReRoPE, ("window", "factor"), "L-MAP-5",
             lambda c, reach: inv_leaky_rerope(_drawn_window(c, reach),
                                               c.real(0.05, 0.95, favour=(1 / 16,), label="inverse leaky factor"))),
    MapEntry("none", none, _NoPE, (), "L-MAP-7", lambda c, reach: none()),
)})
"""Every relative-position map by name, the one table that capabilities, strategies, vectors and adapters use."""
_NO_ENTRY = MapEntry("", None, type(None), (), "", None)


def relative_positions(relpos: Any, positions_q: Any, positions_k: Any) -> np.ndarray:
    r"""The matrix :math:`P_{ij} = f(p_i - p_j)` the articles draw, float64.

    ``positions_q`` has shape ``(..., n_q)``, ``positions_k`` ``(..., n_k)`` (leading axes broadcast);
    the result has shape ``(..., n_q, n_k)``. With ``arange(L)`` for both it is the Toeplitz matrix of
    kexue.fm/archives/9708 (its lower triangle is the causal part).
    Spec: [L-MATRIX-1]. Source: kexue.fm/archives/9708 §8.1, 9706 eq. (8).

    >>> relative_positions(rerope(2), np.arange(4), np.arange(4))
    array([[ 0., -1., -2., -2.],
           [ 1.,  0., -1., -2.],
           [ 2.,  1.,  0., -1.],
           [ 2.,  2.,  1.,  0.]])
    """
    f = resolve(relpos)
    pq = finite_real_array("positions_q", positions_q)
    pk = finite_real_array("positions_k", positions_k)
    if pq.ndim < 1 or pk.ndim < 1:
        raise ValueError(f"positions_q and positions_k need at least one axis, got shapes {pq.shape} and {pk.shape}")
    return f(pq[..., :, None] - pk[..., None, :])
