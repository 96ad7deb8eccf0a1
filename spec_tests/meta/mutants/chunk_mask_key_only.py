"""The chunk mask from the key's chunk only: keys of the last chunk are kept for every query (a decode-time
shortcut), instead of floor(p_i/C) == floor(p_j/C)."""
import torch

from refrope.backends.torch_ref import TorchReference

DEFECT = "chunk mask by the key's chunk only"
CAUGHT_BY = "K-ATTN-1"
PROBE = {"test": "attention_schemes", "case": "chunk"}


class Mutant(TorchReference):
    def chunk_mask(self, pq, pk, chunk_size):
        keep = torch.floor(pk / chunk_size) == torch.floor(pk.max() / chunk_size)
        return torch.broadcast_to(keep, torch.broadcast_shapes(pq.shape, pk.shape))


def make_backend(device=None):
    return Mutant(device)
