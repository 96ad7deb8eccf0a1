"""NTK-aware scaling with the exponent of head size 128 written in, ``theta k^(64/63)``, for every rotary dim
(right at d = 128 only)."""
from refrope.backends import torch_ref

from . import inv_freq_mutant

DEFECT = "NTK-aware exponent d/(d - 2) hard-coded as 64/63"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "ntk_aware"}
Mutant = inv_freq_mutant("ntk_aware", lambda d, theta, p, device: (
    torch_ref.default_inv_freq(d, theta * p["factor"] ** (64 / 63), device), 1.0))


def make_backend(device=None):
    return Mutant(device)
