"""The bias evaluated on the relative-position map f(r) (the distance RoPE sees) instead of the raw distance r."""
from refrope.backends import feature_name
from refrope.backends.torch_ref import TorchReference

DEFECT = "bias b(f(p_i - p_j)) instead of b(p_i - p_j)"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention_schemes", "case": "bias_with_map"}


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        relpos = options.get("relpos", "rope")
        self._map = None if feature_name("relpos", relpos) == "none" else self.relpos_map(relpos)
        return super().attention(q, k, v, freqs, **options)

    def bias_values(self, bias, rel, pq, pk):
        return super().bias_values(bias, rel if self._map is None else self._map(rel), pq, pk)


def make_backend(device=None):
    return Mutant(device)
