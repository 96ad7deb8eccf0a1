"""YaRN ramp linear in wavelength between the ramp's end pairs instead of linear in pair index,
as jquesnelle/yarn `scaled_rope/LlamaYaRNScaledRotaryEmbedding.py` ramps (the paper, arXiv:2309.00071 §3.2,
ramps in the wavelength ratio r; libraries follow the code)."""
import math

import torch

from refrope.backends import torch_ref
from refrope.frequencies.ramps import correction_range

from . import inv_freq_mutant

DEFECT = "YaRN ramp linear in wavelength instead of pair index"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "yarn"}


def _yarn(d, theta, p, device):
    low, high = correction_range(p.get("beta_fast", 32.0), p.get("beta_slow", 1.0), d, theta,
                                 p["original_max_position_embeddings"], p.get("truncate", True))
    wavelength = lambda i: 2 * math.pi * theta ** (2 * i / d)  # noqa: E731
    lam = 2 * math.pi * theta ** (torch.arange(0, d, 2, device=device).float() / d)
    w_low, w_high = wavelength(low), wavelength(high + 0.001 * (low == high))
    ramp = ((lam - w_low) / (w_high - w_low)).clamp(0, 1)
    pos_freqs = theta ** (torch.arange(0, d, 2, device=device).float() / d)
    return (1.0 / (p["factor"] * pos_freqs)) * ramp + (1.0 / pos_freqs) * (1 - ramp), torch_ref.yarn_attention_factor(p)


Mutant = inv_freq_mutant("yarn", _yarn)


def make_backend(device=None):
    return Mutant(device)
