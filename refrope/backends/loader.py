"""Loading a backend by name: the bundled short names and module paths ([K-PROTO-2]).

Spec: docs/spec/conformance.md.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from types import MappingProxyType

from .protocol import Backend, validate

__all__ = ["BUNDLED", "load_backend"]

BUNDLED: Mapping[str, str] = MappingProxyType({
    "refrope": "refrope.backends.oracle",
    "torch": "refrope.backends.torch_ref",
    "transformers": "refrope.backends.transformers",
    "rotary_embedding_torch": "refrope.backends.rotary_embedding_torch",
    "ggml": "refrope.backends.ggml",
})
"""Short names accepted by ``--backend`` / ``REFROPE_BACKEND``, and the module each one loads."""


def load_backend(spec: str | None = None, *, device: str | None = None) -> Backend:
    """Load and validate a backend from a bundled short name or a module path (``pkg.mod`` or ``pkg.mod:attr``).

    ``spec`` defaults to ``$REFROPE_BACKEND``, then ``"refrope"`` (the oracle itself); ``device`` to
    ``$REFROPE_DEVICE`` and is passed to the module's ``make_backend(device=...)``.
    Spec: [K-PROTO-1], [K-PROTO-2].

    >>> b = load_backend("refrope")
    >>> b.name, b.dtypes, b.angle_dtype
    ('refrope', ('float64',), 'float64')
    """
    spec = spec or os.environ.get("REFROPE_BACKEND") or "refrope"
    device = device or os.environ.get("REFROPE_DEVICE") or None
    if not isinstance(spec, str):
        raise TypeError(f"backend must be a module path or one of {sorted(BUNDLED)}, got {spec!r}")
    module_path, _, attr = BUNDLED.get(spec, spec).partition(":")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise ValueError(f"backend {spec!r}: cannot import {module_path!r} ({exc}); give a module path or one of "
                         f"{sorted(BUNDLED)}") from exc
    obj = getattr(module, attr) if attr else module
    if hasattr(obj, "make_backend"):
        obj = obj.make_backend(device=device)
    elif device is not None:
        raise ValueError(f"backend {spec!r} takes no device (it has no make_backend), got device={device!r}")
    return validate(obj, spec)
