"""inv_freq held in float16, as a buffer cast by ``model.half()`` (huggingface/transformers#25681)."""

from refrope.backends.torch_ref import TorchReference

DEFECT = "inv_freq held in float16"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}


class Mutant(TorchReference):
    def angles(self, positions, freqs):
        return self.tensor(positions)[..., None] * self.tensor(freqs.inv_freq).half().float()


def make_backend(device=None):
    return Mutant(device)
