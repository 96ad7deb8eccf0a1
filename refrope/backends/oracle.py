"""The oracle itself as a backend (float64, every capability): the default of ``refrope check``.

Spec: docs/spec/conformance.md [K-PROTO-1].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .protocol import FLAGS, FUNCTIONS, Backend, feature_values, validate

__all__ = ["make_backend", "oracle_backend"]


def _oracle_to_backend(array: np.ndarray, dtype: str) -> np.ndarray:
    if dtype != "float64":
        raise ValueError(f"the refrope oracle computes in float64 only, got dtype={dtype!r}")
    return np.array(array, dtype=np.float64, copy=True)


def _oracle_inv_freq(variant: str, rotary_dim: int, **params: Any):
    from ..frequencies.registry import inv_freq

    return inv_freq(variant, rotary_dim, **params)


def _oracle_cos_sin(positions: Any, freqs: Any, *, layout: str = "half", dtype: str = "float64"):
    from ..rotary import cos_sin

    _oracle_to_backend(np.zeros(0), dtype)
    return cos_sin(positions, freqs, layout=layout)


class _Oracle:
    name = "refrope"
    dtypes = ("float64",)
    capabilities = frozenset(FUNCTIONS + FLAGS + tuple(f"{kind}:{value}" for kind in ("relpos", "query_scale", "bias")
                                                       for value in feature_values(kind)))
    angle_dtype = "float64"
    to_backend = staticmethod(_oracle_to_backend)
    to_numpy = staticmethod(np.asarray)
    inv_freq = staticmethod(_oracle_inv_freq)
    cos_sin = staticmethod(_oracle_cos_sin)

    @property
    def versions(self) -> dict:
        from .. import __version__

        return {"refrope": __version__, "numpy": np.__version__}

    @staticmethod
    def apply_rope(*args: Any, **kwargs: Any):
        from ..rotary import apply_rope

        return apply_rope(*args, **kwargs)

    @staticmethod
    def apply_rope_nd(*args: Any, **kwargs: Any):
        from ..multimodal import apply_rope_nd

        return apply_rope_nd(*args, **kwargs)

    @staticmethod
    def apply_mrope(*args: Any, **kwargs: Any):
        from ..multimodal import apply_mrope

        return apply_mrope(*args, **kwargs)

    @staticmethod
    def apply_vision_rope(*args: Any, **kwargs: Any):
        from ..multimodal import apply_vision_rope

        return apply_vision_rope(*args, **kwargs)

    @staticmethod
    def attention(*args: Any, **kwargs: Any):
        from .._attention.api import attention

        return attention(*args, **kwargs)

    @staticmethod
    def apply_xpos(*args: Any, **kwargs: Any):
        from ..xpos import apply_xpos

        return apply_xpos(*args, **kwargs)

    @staticmethod
    def dual_chunk_attention(*args: Any, **kwargs: Any):
        from ..dual_chunk import dual_chunk_attention

        return dual_chunk_attention(*args, **kwargs)


def make_backend(device: str | None = None) -> Any:
    """The oracle itself as a backend (float64, every capability); it takes no device.

    >>> make_backend().name
    'refrope'
    """
    if device not in (None, "cpu"):
        raise ValueError(f"the refrope oracle runs on the CPU only, got device={device!r}")
    return _Oracle()


def oracle_backend() -> Backend:
    """The validated oracle backend (what ``load_backend("refrope")`` returns).

    >>> sorted(oracle_backend().functions)  # doctest: +NORMALIZE_WHITESPACE
    ['apply_mrope', 'apply_rope', 'apply_rope_nd', 'apply_vision_rope', 'apply_xpos', 'attention', 'cos_sin',
     'dual_chunk_attention', 'inv_freq']
    """
    return validate(_Oracle(), "refrope")
