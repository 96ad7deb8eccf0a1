r"""KV-cache decoding for every relative-position map: :class:`KVCache` and the ``"decode"`` logits.

With a nonlinear map :math:`f` (ReRoPE and co) a rotated key cannot be reused, because the angle
between query :math:`i` and key :math:`j` is :math:`f(i - j)`, not :math:`i - j`. The cache therefore
holds **unrotated** keys and their positions, and each step rotates every cached key by
:math:`-f(p_i - p_j)` while leaving the query unrotated (bojone/rerope ``rerope_patch.py``, the ``q_len == 1`` branch):

.. math:: s_{ij} = c_i\, q_i^\top\big(m^2\,\mathcal{R}(-f(p_i - p_j))\,k_j\big)

Spec: [A-DECODE-1], [A-DECODE-2], [A-METHOD-4]. Source: kexue.fm/archives/9708 §8.2;
bojone/rerope ``rerope_patch.py`` (``q_len == 1`` branch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import finite_real_array
from ..frequencies.base import _readonly
from .masks import mask_logits
from .schemes import add_bias
from .setup import Head, Options

__all__ = ["KVCache", "decode_logits"]


@dataclass(frozen=True, eq=False)
class KVCache:
    r"""An immutable KV cache: unrotated keys, values and the keys' positions.

    :meth:`append` returns a new cache; nothing is ever modified in place. ``KVCache()`` is empty.
    Spec: [A-DECODE-1]. Source: bojone/rerope caches ``(key_states, value_states, position_ids)``.

    Attributes
    ----------
    keys : ndarray, float64, shape ``(..., heads_kv, n, d)`` or None
        Unrotated keys (None for the empty cache), read-only.
    values : ndarray, float64, shape ``(..., heads_kv, n, dv)`` or None
        The values, read-only.
    positions : ndarray, float64, shape ``(..., n)`` or None
        The position of every cached key (leading axes: the keys' batch axes), read-only.

    Examples
    --------
    >>> cache = KVCache().append(np.ones((1, 2, 4)), np.ones((1, 2, 3)), [0, 1])
    >>> len(cache), cache.keys.shape, cache.positions
    (2, (1, 2, 4), array([0., 1.]))
    """

    keys: np.ndarray | None = None
    values: np.ndarray | None = None
    positions: np.ndarray | None = None

    def __post_init__(self) -> None:
        given = [x is not None for x in (self.keys, self.values, self.positions)]
        if not any(given):
            return
        if not all(given):
            raise ValueError("keys, values and positions must be given together (or none, for an empty cache)")
        k, v, p = (finite_real_array(n, x) for n, x in
                   (("keys", self.keys), ("values", self.values), ("positions", self.positions)))
        if k.ndim < 3 or v.ndim < 3:
            raise ValueError(f"keys and values must have shape (..., heads_kv, n, dim), got {k.shape} and {v.shape}")
        if v.shape[:-1] != k.shape[:-1]:
            raise ValueError(f"values must have the shape of keys but for the last axis, got {v.shape} and {k.shape}")
        batch_n = k.shape[:-3] + (k.shape[-2],)
        try:
            p = np.broadcast_to(p, batch_n)
        except ValueError:
            raise ValueError(f"positions of shape {p.shape} do not broadcast to (..., n) = {batch_n}") from None
        for name, arr in (("keys", k), ("values", v), ("positions", p)):
            object.__setattr__(self, name, _readonly(arr))

    def __len__(self) -> int:
        return 0 if self.keys is None else self.keys.shape[-2]

    def append(self, k: Any, v: Any, positions: Any) -> KVCache:
        """A new cache with the unrotated keys ``k`` ``(..., heads_kv, n_new, d)``, values ``v`` and their positions.

        ``positions`` broadcasts to ``(..., n_new)``. Shapes must match the cache but for ``n``.

        >>> KVCache().append(np.zeros((1, 1, 2)), np.zeros((1, 1, 2)), 5).append(
        ...     np.zeros((1, 1, 2)), np.zeros((1, 1, 2)), 6).positions
        array([5., 6.])
        """
        new = KVCache(k, v, positions)
        if self.keys is None:
            return new
        if (new.keys.shape[:-2] + new.keys.shape[-1:] != self.keys.shape[:-2] + self.keys.shape[-1:]
                or new.values.shape[-1] != self.values.shape[-1]):
            raise ValueError(f"k {new.keys.shape} and v {new.values.shape} do not match the cache's keys "
                             f"{self.keys.shape} and values {self.values.shape} (all axes but n must agree)")
        return KVCache(np.concatenate([self.keys, new.keys], axis=-2),
                       np.concatenate([self.values, new.values], axis=-2),
                       np.concatenate([self.positions, new.positions], axis=-1))


def decode_logits(head: Head, options: Options) -> Callable[[slice], np.ndarray]:
    r"""Logits of query rows the KV-cache way: for each row :math:`i`, every key rotated by :math:`-f(p_i - p_j)`.

    The query is not rotated; the keys carry the whole magnitude :math:`m^2` (pass-through
    coordinates untouched), so the product is the score of [A-SCORE-1].
    """
    def logits(rows: slice) -> np.ndarray:
        out = np.empty((rows.stop - rows.start, len(head.pk)))
        for t, i in enumerate(range(rows.start, rows.stop)):
            turned = options.rope(head.k, -options.relpos(head.pq[i] - head.pk), options.magnitude ** 2,
                                  options.pair_layout)
            out[t] = (turned @ head.q[i]) * head.factor[i]
        add_bias(out, head.pq[rows], head.pk, head.bias)
        return mask_logits(out, head.pq[rows], head.pk, head.key_mask, options)

    return logits
