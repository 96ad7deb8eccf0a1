"""YaRN's explicit ``attention_factor`` multiplied by ``0.1 ln k + 1`` instead of replacing it."""
from refrope.backends import torch_ref

from . import inv_freq_mutant

DEFECT = "explicit YaRN attention_factor multiplied by 0.1 ln k + 1"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "yarn"}


def _yarn(d, theta, p, device):
    magnitude = torch_ref.yarn_attention_factor(p)
    if p.get("attention_factor") is not None:
        magnitude *= torch_ref.mscale(p["factor"])
    return torch_ref.yarn_inv_freq(d, theta, p, device), magnitude


Mutant = inv_freq_mutant("yarn", _yarn)


def make_backend(device=None):
    return Mutant(device)
