"""YaRN ``truncate=False`` ignored: the correction range always floored/ceiled (gpt-oss: vllm-project/vllm#28244)."""
from refrope.backends import torch_ref

from . import inv_freq_mutant

DEFECT = "YaRN truncate=False ignored"
CAUGHT_BY = "K-FREQ-1"
PROBE = {"test": "inv_freq", "variant": "yarn"}
Mutant = inv_freq_mutant("yarn", lambda d, theta, p, device: (
    torch_ref.yarn_inv_freq(d, theta, {**p, "truncate": True}, device), torch_ref.yarn_attention_factor(p)))


def make_backend(device=None):
    return Mutant(device)
