"""The bias multiplied by the query scale (added before the per-query factor instead of after it)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "bias multiplied by the query scale"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention_schemes", "case": "bias_with_query_scale"}


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        self._scale = options.get("query_scale")
        return super().attention(q, k, v, freqs, **options)

    def bias_values(self, bias, rel, pq, pk):
        values = super().bias_values(bias, rel, pq, pk)
        return values if self._scale is None else values * self.query_scales(self._scale, pq)[..., :, None]


def make_backend(device=None):
    return Mutant(device)
