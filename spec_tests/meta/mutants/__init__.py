"""Deliberately broken backends: the torch reference adapter with one real-world defect each ([K-MUT-1]).

Each mutant subclasses :class:`refrope.backends.torch_ref.TorchReference` and overrides one of its documented
steps (its extension point), carrying the defect's own code.

Each module defines ``make_backend(device=None)``, ``DEFECT`` (one line), ``CAUGHT_BY`` (the clause
that must catch it, as in the table of docs/spec/conformance.md) and ``PROBE``: the conformance test
(``"apply_rope"``, ``"cos_sin"``, ``"inv_freq"``, ``"attention"``, ``"apply_rope_nd"``, ``"apply_mrope"`` or
``"apply_vision_rope"``) and the parameters to run it with.
"""

from __future__ import annotations

import pkgutil

MUTANTS = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__)))


def inv_freq_mutant(variant: str, compute):
    """A torch-reference backend class whose ``inv_freq`` of ``variant`` is ``compute(d, theta, params, device)``."""
    from refrope.backends.torch_ref import TorchReference

    class Mutant(TorchReference):
        def inv_freq(self, name, rotary_dim, *, theta=10000.0, **params):
            if name == variant:
                return compute(rotary_dim, theta, params, self.device)
            return super().inv_freq(name, rotary_dim, theta=theta, **params)

    return Mutant


def relpos_mutant(kind: str, replace):
    """A torch-reference backend class whose attention swaps a ``kind`` map ``f`` for ``replace(f)`` (if not None)."""
    from refrope.backends import feature_name
    from refrope.backends.torch_ref import TorchReference

    class Mutant(TorchReference):
        def attention(self, q, k, v, freqs, **options):
            rp = options.get("relpos", "rope")
            if feature_name("relpos", rp) == kind and replace(rp) is not None:
                options["relpos"] = replace(rp)
            return super().attention(q, k, v, freqs, **options)

    return Mutant
