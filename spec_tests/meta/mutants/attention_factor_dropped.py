"""The cos/sin magnitude (YaRN's / LongRoPE's attention_factor) never applied (cf. ml-explore/mlx-lm#1507)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = "attention factor dropped"
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "yarn", "layout": "half"}


class Mutant(TorchReference):
    def cos_sin_pairs(self, positions, freqs, dtype):
        phi = self.angles(positions, freqs)
        return phi.cos().to(dtype), phi.sin().to(dtype)


def make_backend(device=None):
    return Mutant(device)
