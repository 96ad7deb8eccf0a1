"""Leaky ReRoPE with outer slope k instead of 1/k: f(r) = w + (r - w) k beyond the window."""
from refrope import relpos

from . import relpos_mutant

DEFECT = "Leaky ReRoPE scaling by k instead of 1/k"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "leaky_rerope"}
# inv_leaky_rerope(w, 1/k) has the outer slope 1 / (1/k) = k
Mutant = relpos_mutant("leaky_rerope",
                       lambda f: relpos.inv_leaky_rerope(f.window, 1.0 / f.factor) if f.factor > 1 else None)


def make_backend(device=None):
    return Mutant(device)
