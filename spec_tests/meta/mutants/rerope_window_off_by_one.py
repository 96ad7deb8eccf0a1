"""ReRoPE with the window off by one: relative positions clamped at w - 1 instead of w."""
from refrope import relpos

from . import relpos_mutant

DEFECT = "ReRoPE window off by one"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "rerope"}
Mutant = relpos_mutant("rerope", lambda f: relpos.rerope(f.window - 1) if f.window >= 1 else None)


def make_backend(device=None):
    return Mutant(device)
