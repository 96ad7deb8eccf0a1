"""Llama 3 band edges at 1.25 times the right wavelengths (a wrong L; anchors §9 bug #17)."""
from refrope.adapters import torch_ref

from . import inv_freq_mutant

DEFECT = "llama3 band edges shifted"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "llama3"}
Mutant = inv_freq_mutant("llama3", lambda d, theta, p, device: (
    torch_ref.llama3_inv_freq(d, theta, p, device, edge_shift=0.25), 1.0))


def make_backend(device=None):
    return Mutant(device)
