"""LongRoPE long factors already at ``seq_len = L`` (``>=`` for ``>``; cf. unslothai/unsloth#10681)."""
from refrope.backends import torch_ref

from . import inv_freq_mutant

DEFECT = "LongRoPE off by one at the original length"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "longrope"}


def _longrope(d, theta, p, device):
    # long factors iff seq_len >= L (the correct rule is seq_len > L): the reference's code one length later
    seq = p.get("seq_len")
    shifted = {**p, "seq_len": None if seq is None else seq + 1}
    return torch_ref.longrope_inv_freq(d, theta, shifted, device), torch_ref.longrope_attention_factor(p)


Mutant = inv_freq_mutant("longrope", _longrope)


def make_backend(device=None):
    return Mutant(device)
