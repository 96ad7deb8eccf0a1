"""GQA wired for groups of two: query head h reads key/value head ``(h // 2) mod heads_kv`` (right for a group of 2,
wrong for 4 and 8)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "GQA key/value head h // 2 (groups of two only)"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "gqa"}


class Mutant(TorchReference):
    def attention(self, q, k, v, freqs, **options):
        heads_q, heads_kv = q.shape[-3], k.shape[-3]
        index = [(h // 2) % heads_kv for h in range(heads_q)]
        return super().attention(q, k[..., index, :, :], v[..., index, :, :], freqs, **options)


def make_backend(device=None):
    return Mutant(device)
