"""Loading a backend by name: the bundled short names, module paths and file paths ([K-PROTO-2]).

Spec: docs/spec/conformance.md.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType, ModuleType

from .protocol import Backend, validate

__all__ = ["BUNDLED", "EXTRAS", "load_backend", "install_hint", "resolve_spec"]

BUNDLED: Mapping[str, str] = MappingProxyType({
    "refrope": "refrope.backends.oracle",
    "torch": "refrope.backends.torch_ref",
    "transformers": "refrope.backends.transformers",
    "rotary_embedding_torch": "refrope.backends.rotary_embedding_torch",
    "ggml": "refrope.backends.ggml",
})
"""Short names accepted by ``--backend`` / ``REFROPE_BACKEND``, and the module each one loads."""

EXTRAS: Mapping[str, str] = MappingProxyType({
    "torch": "torch", "transformers": "hf", "rotary_embedding_torch": "rotary", "matplotlib": "report",
    "pytest": "test", "hypothesis": "test", "xdist": "test", "triton": "triton",
})
"""Optional dependencies, by top-level module, and the extra of refrope's ``pyproject.toml`` that installs each."""


def install_hint(module: str) -> str:
    """What to install for a missing optional dependency (its extra), or the plain ``pip install`` of it.

    >>> install_hint("transformers")
    "transformers is not installed: install refrope's 'hf' extra (pip install '.[hf]' in a clone of refrope)"
    >>> install_hint("my_kernels")
    'my_kernels is not installed (pip install it, or put it on PYTHONPATH)'
    """
    top = module.split(".", 1)[0]
    if top in EXTRAS:
        extra = EXTRAS[top]
        return (f"{top} is not installed: install refrope's {extra!r} extra "
                f"(pip install '.[{extra}]' in a clone of refrope)")
    return f"{top} is not installed (pip install it, or put it on PYTHONPATH)"


def _split(target: str) -> tuple[str, str]:
    """``(module or file, attribute)`` of ``pkg.mod:attr`` / ``path/to/file.py:attr`` (attribute may be empty)."""
    head, sep, attr = target.rpartition(":")
    return (head, attr) if sep and attr.isidentifier() else (target, "")


def _is_file(path: str) -> bool:
    return path.endswith(".py") or "/" in path or os.sep in path


def resolve_spec(spec: str) -> str:
    """The form of a backend name that loads from any directory: a file path made absolute, else ``spec``.

    >>> resolve_spec("torch"), resolve_spec("pkg.mod:attr")
    ('torch', 'pkg.mod:attr')
    """
    path, attr = _split(spec)
    if spec in BUNDLED or not _is_file(path):
        return spec
    return str(Path(path).expanduser().resolve()) + (f":{attr}" if attr else "")


def _import_file(path: Path, spec: str) -> ModuleType:
    if not path.is_file():
        raise ValueError(f"backend {spec!r}: no such file {str(path)!r}")
    name = path.stem
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # so that pickling, hypothesis and a second load see one module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import(module_path: str) -> ModuleType:
    """Import a module path; a module (or package) in the current directory is found without PYTHONPATH."""
    top = module_path.split(".", 1)[0]
    try:
        return importlib.import_module(module_path)
    except ModuleNotFoundError as exc:
        here = Path.cwd()
        if exc.name == top and ((here / f"{top}.py").is_file() or (here / top / "__init__.py").is_file()) \
                and str(here) not in sys.path:
            sys.path.insert(0, str(here))
            return importlib.import_module(module_path)
        raise


def _module(spec: str) -> tuple[ModuleType, str]:
    path, attr = _split(BUNDLED.get(spec, spec))
    try:
        if _is_file(path):
            return _import_file(Path(path).expanduser(), spec), attr
        return _import(path), attr
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if spec in BUNDLED or _is_file(path) or (missing and missing.split(".", 1)[0] != path.split(".", 1)[0]):
            raise ValueError(f"backend {spec!r}: {install_hint(missing)}") from exc
        raise ValueError(f"backend {spec!r}: no module {path!r} in {os.getcwd()!r} or on sys.path; give a module "
                         f"path (my_adapter, pkg.mod, pkg.mod:attr), a file (path/to/my_adapter.py) or one of "
                         f"{sorted(BUNDLED)}") from exc
    except Exception as exc:  # the module itself raised while being imported: say so, with its error
        raise ValueError(f"backend {spec!r}: importing it raised {type(exc).__name__}: {exc}") from exc


def load_backend(spec: str | None = None, *, device: str | None = None) -> Backend:
    """Load and validate a backend from a bundled short name, a module path (``pkg.mod`` or ``pkg.mod:attr``; a
    module in the current directory needs no ``PYTHONPATH``) or a file (``path/to/adapter.py[:attr]``).

    ``spec`` defaults to ``$REFROPE_BACKEND``, then ``"refrope"`` (the oracle itself); ``device`` to
    ``$REFROPE_DEVICE`` and is passed to the module's ``make_backend(device=...)``. A missing optional
    dependency names the extra that installs it. Spec: [K-PROTO-1], [K-PROTO-2].

    >>> b = load_backend("refrope")
    >>> b.name, b.dtypes, b.angle_dtype
    ('refrope', ('float64',), 'float64')
    """
    spec = spec or os.environ.get("REFROPE_BACKEND") or "refrope"
    device = device or os.environ.get("REFROPE_DEVICE") or None
    if not isinstance(spec, str):
        raise TypeError(f"backend must be a module path, a file path or one of {sorted(BUNDLED)}, got {spec!r}")
    module, attr = _module(spec)
    obj = getattr(module, attr) if attr else module
    if hasattr(obj, "make_backend"):
        obj = obj.make_backend(device=device)
    elif device is not None:
        raise ValueError(f"backend {spec!r} takes no device (it has no make_backend), got device={device!r}")
    return dataclasses.replace(validate(obj, spec), device=device)
