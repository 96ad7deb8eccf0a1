"""Llama 3 band edges at 1.25 times the right wavelengths (a wrong L; cf. ggml-org/llama.cpp#8676)."""
import math

import torch

from refrope.backends import torch_ref

from . import inv_freq_mutant

DEFECT = "llama3 band edges shifted"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "llama3"}
SHIFT = 0.25  # both band edges moved 25 % towards long wavelengths


def _llama3(d, theta, p, device):
    inv = torch_ref.default_inv_freq(d, theta, device)
    k, length = p["factor"], p["original_max_position_embeddings"]
    low, high = p["low_freq_factor"], p["high_freq_factor"]
    low_wavelen, high_wavelen = length / low * (1 + SHIFT), length / high * (1 + SHIFT)
    wavelen = 2 * math.pi / inv
    out = torch.where(wavelen > low_wavelen, inv / k, inv)
    smooth = (length / wavelen - low) / (high - low)
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, (1 - smooth) * out / k + smooth * out, out), 1.0


Mutant = inv_freq_mutant("llama3", _llama3)


def make_backend(device=None):
    return Mutant(device)
