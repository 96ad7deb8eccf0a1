"""DeepSeek's softmax factor ``(0.1 mscale_all_dim ln k + 1)^2`` missing from the logits
(cf. NVIDIA/Megatron-LM#1429)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "DeepSeek's mscale_all_dim^2 softmax factor missing"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "deepseek_mscale"}


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        options["mscale_all_dim"] = None
        return super().attention(q, k, v, freqs, **options)


def make_backend(device=None):
    return Mutant(device)
