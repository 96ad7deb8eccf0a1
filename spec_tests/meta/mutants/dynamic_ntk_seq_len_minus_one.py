"""Dynamic NTK evaluated at ``seq_len - 1`` (the largest position instead of the length): no scaling at L + 1."""
from refrope.backends import torch_ref

from . import inv_freq_mutant

DEFECT = "dynamic NTK at seq_len - 1"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "dynamic_ntk"}
Mutant = inv_freq_mutant("dynamic_ntk", lambda d, theta, p, device: torch_ref.FREQUENCY_FUNCTIONS["dynamic_ntk"](
    d, theta, {**p, "seq_len": p["seq_len"] - 1}, device))


def make_backend(device=None):
    return Mutant(device)
