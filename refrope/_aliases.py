"""Import aliases for the module paths of refrope 0.1, kept for one release.

``import refrope.tolerances`` (say) returns the module now at ``refrope.budgets``: the same module
object, registered under both names, imported only when the old name is. New code uses the new paths.
The table is the one place the old paths are listed (docs/contributing.md, "Layout").
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

ALIASES = {
    "refrope.freq_base": "refrope.frequencies.base",
    "refrope.freq_ntk": "refrope.frequencies.ntk",
    "refrope.freq_yarn": "refrope.frequencies.yarn",
    "refrope.freq_models": "refrope.frequencies.models",
    "refrope.tolerances": "refrope.budgets",
    "refrope.hf_config": "refrope.configs.hf",
    "refrope.backend": "refrope.backends",
    "refrope.adapters": "refrope.backends",
    "refrope.adapters.torch_ref": "refrope.backends.torch_ref",
    "refrope.adapters.transformers": "refrope.backends.transformers",
    "refrope.adapters.rotary_embedding_torch": "refrope.backends.rotary_embedding_torch",
}
"""Old module path -> the module that replaces it."""


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:  # the target module is already executed
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in ALIASES:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(ALIASES[fullname]))


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
