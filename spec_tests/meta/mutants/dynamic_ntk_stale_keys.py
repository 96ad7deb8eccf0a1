"""Dynamic NTK with cached keys rotated by the base of their own time (huggingface/transformers#25104)."""
import torch

import refrope
from refrope.backends.torch_ref import TorchReference

DEFECT = "dynamic NTK reusing keys rotated with a stale base"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention", "case": "dynamic_ntk"}


class Mutant(TorchReference):
    capabilities = TorchReference.capabilities - {"batch_positions"}  # its key loop takes one row of positions

    def logits(self, q, k, freqs, pq, pk, relpos, layout):
        if freqs.variant != "dynamic_ntk":
            return super().logits(q, k, freqs, pq, pk, relpos, layout)
        return _stale_logits(self, q, k, freqs, pq, pk, layout)


def _stale_logits(backend, q, k, freqs, pq, pk, layout):
    d = freqs.rotary_dim
    params = {name: value for name, value in freqs.params.items() if name != "theta"}
    qr = backend.apply_rope(q[..., :d], pq, freqs, layout=layout)
    keys = []
    for j, p in enumerate(pk):  # key j was cached when the sequence was p_j + 1 long
        stale = refrope.inv_freq("dynamic_ntk", d, theta=freqs.params["theta"], **{**params, "seq_len": int(p) + 1})
        keys.append(backend.apply_rope(k[..., j:j + 1, :d], pk[j:j + 1], stale, layout=layout))
    return qr.float() @ torch.cat(keys, dim=-2).float().transpose(-1, -2)



def make_backend(device=None):
    return Mutant(device)
