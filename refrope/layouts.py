"""Pair layouts: which two coordinates of the rotary slice form one rotated pair.

Spec: [C-LAYOUT-1] to [C-LAYOUT-4] (docs/spec/layouts.md).

==========================  ==============  ==============  ======================================================
layout                      input pair i    output pair i   used by
==========================  ==============  ==============  ======================================================
``"half"``                  (i, i + d/2)    (i, i + d/2)    GPT-NeoX, HF ``rotate_half``, vLLM neox, ggml NEOX
``"interleaved"``           (2i, 2i + 1)    (2i, 2i + 1)    GPT-J, RoFormer, ggml NORMAL, rotary-embedding-torch
``"interleaved_to_half"``   (2i, 2i + 1)    (i, i + d/2)    HF DeepSeek-V3 ``rope_interleave``
==========================  ==============  ==============  ======================================================
"""

from __future__ import annotations

import numpy as np

from ._validation import check_choice, check_int

__all__ = ["LAYOUTS", "check_layout", "pair_slices", "interleave_permutation"]

LAYOUTS = ("half", "interleaved", "interleaved_to_half")


def check_layout(layout: object) -> str:
    """Return ``layout`` if it names a known layout, else raise.

    >>> check_layout("interleaved")
    'interleaved'
    """
    return check_choice("layout", layout, LAYOUTS)


def pair_slices(rotary_dim: int, layout: str, *, output: bool = False) -> tuple[slice, slice]:
    """Slices of the rotary slice holding the first and second member of every pair.

    ``output=True`` gives where the rotated pair is written; it differs from the
    input only for ``"interleaved_to_half"`` [C-LAYOUT-3].

    >>> pair_slices(6, "half")
    (slice(0, 3, None), slice(3, 6, None))
    >>> pair_slices(6, "interleaved")
    (slice(0, 6, 2), slice(1, 6, 2))
    >>> pair_slices(6, "interleaved_to_half", output=True)
    (slice(0, 3, None), slice(3, 6, None))
    """
    rotary_dim = check_int("rotary_dim", rotary_dim, minimum=2, even=True)
    layout = check_layout(layout)
    half = rotary_dim // 2
    if layout == "half" or (output and layout == "interleaved_to_half"):
        return slice(0, half), slice(half, rotary_dim)
    return slice(0, rotary_dim, 2), slice(1, rotary_dim, 2)


def interleave_permutation(rotary_dim: int) -> np.ndarray:
    r"""The permutation :math:`P` with ``x_half = x_interleaved[P]`` [C-LAYOUT-2].

    :math:`P = (0, 2, 4, \dots, d-2, 1, 3, \dots, d-1)`: it gathers the first
    members of the interleaved pairs, then the second members, so that
    ``apply_rope(x[..., P], layout="half") == apply_rope(x, layout="interleaved")[..., P]``.

    >>> interleave_permutation(6)
    array([0, 2, 4, 1, 3, 5])
    """
    rotary_dim = check_int("rotary_dim", rotary_dim, minimum=2, even=True)
    return np.concatenate([np.arange(0, rotary_dim, 2), np.arange(1, rotary_dim, 2)])
