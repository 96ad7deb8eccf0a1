"""LongRoPE long factors already at ``seq_len = L`` (``>=`` for ``>``; anchors §9 bug #8)."""
from refrope.adapters import torch_ref

from . import inv_freq_mutant

DEFECT = "LongRoPE off by one at the original length"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "longrope"}


def _longrope(d, theta, p, device):
    use_long = p.get("seq_len") is not None and p["seq_len"] >= p["original_max_position_embeddings"]
    return torch_ref.longrope_inv_freq(d, theta, p, device, use_long=use_long), torch_ref.longrope_attention_factor(p)


Mutant = inv_freq_mutant("longrope", _longrope)


def make_backend(device=None):
    return Mutant(device)
