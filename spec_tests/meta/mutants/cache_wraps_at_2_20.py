"""A cos/sin cache of 2^20 rows indexed modulo its length (``cache[p % 2^20]``): positions past 2^20 wrap."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "positions past a 2^20-row cache wrapped around"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def angles(self, positions, freqs):
        return self.tensor(positions)[..., None].remainder(2**20) * self.tensor(freqs.inv_freq)


def make_backend(device=None):
    return Mutant(device)
