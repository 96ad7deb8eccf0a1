"""Deliberately broken float32 NumPy backends, one common defect each, for the likely-cause hints ([K-HINT-1])
and the command-line tests ([K-CLI-1]): ``correct``, ``off_by_one`` (positions + 1), ``sin_flipped`` (a
rotation by -p omega), ``layout_swapped`` ("half" and "interleaved" exchanged, vllm-project/vllm#747),
``magnitude_missing`` (attention_factor never applied). Each rounds the oracle's float64 result to float32
after putting its defect in; they need nothing but NumPy. Load one with
``--backend spec_tests.meta.numpy_backends:off_by_one``.
"""

from __future__ import annotations

import numpy as np

import refrope

__all__ = ["NumpyBackend", "correct", "off_by_one", "sin_flipped", "layout_swapped", "magnitude_missing"]

_SWAP = {"half": "interleaved", "interleaved": "half"}


class NumpyBackend:
    """A float32 NumPy backend of apply_rope and cos_sin with one defect (``defect`` maps the call's
    ``(positions, freqs, layout)`` to what the backend computes with)."""

    dtypes = ("float32",)
    angle_dtype = "float32"
    capabilities = frozenset({"apply_rope", "cos_sin"})

    def __init__(self, name: str, defect=None) -> None:
        self.name = name
        self.defect = defect or (lambda positions, freqs, layout: (positions, freqs, layout))

    @staticmethod
    def to_backend(a, dtype):
        return np.array(a, dtype=np.float32)

    @staticmethod
    def to_numpy(a):
        return np.asarray(a)

    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        p, f, lay = self.defect(np.asarray(positions), freqs, layout)
        with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 in the rotation: judged by value
            return refrope.apply_rope(np.asarray(x, dtype=np.float64), p, f, layout=lay,
                                      rotary_offset=rotary_offset).astype(np.float32)

    def cos_sin(self, positions, freqs, *, layout="half", dtype="float32"):
        p, f, lay = self.defect(np.asarray(positions), freqs, layout)
        with np.errstate(over="ignore"):
            return tuple(t.astype(np.float32) for t in refrope.cos_sin(p, f, layout=lay))


correct = NumpyBackend("numpy-correct")
off_by_one = NumpyBackend("numpy-off-by-one", lambda p, f, lay: (p + 1, f, lay))
sin_flipped = NumpyBackend("numpy-sin-flipped", lambda p, f, lay: (-p, f, lay))
layout_swapped = NumpyBackend("numpy-layout-swapped", lambda p, f, lay: (p, f, _SWAP.get(lay, lay)))
magnitude_missing = NumpyBackend("numpy-magnitude-missing",
                                 lambda p, f, lay: (p, refrope.Frequencies(f.inv_freq, attention_factor=1.0), lay))
