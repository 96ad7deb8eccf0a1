"""cos_sin returning the half-layout tables when asked for the interleaved layout."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "interleaved cos/sin tables laid out as half"
CAUGHT_BY = "K-COSSIN-1"
PROBE = {"test": "cos_sin", "layout": "interleaved"}


class Mutant(TorchReference):
    def cos_sin(self, positions, freqs, *, layout="half", dtype="float32"):
        return super().cos_sin(positions, freqs, layout="half", dtype=dtype)


def make_backend(device=None):
    return Mutant(device)
