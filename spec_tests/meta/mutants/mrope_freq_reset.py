"""M-RoPE with the frequency index restarted in every section (omega_j, j counted from the section's start) instead
of each pair keeping its own omega_i (the vision-tower habit carried into the text model)."""
import numpy as np

import refrope
from refrope.backends.torch_ref import TorchReference

DEFECT = "M-RoPE frequency index reset per section"
CAUGHT_BY = "K-MROPE-1"
PROBE = {"test": "apply_mrope", "case": "blocked", "layout": "half"}


class Mutant(TorchReference):
    def apply_mrope(self, x, positions, freqs, *, sections, mode="blocked", layout="half", rotary_offset=0):
        if mode == "blocked":
            omega = np.concatenate([freqs.inv_freq[:s] for s in sections])
            freqs = refrope.Frequencies(omega, freqs.attention_factor)
        return super().apply_mrope(x, positions, freqs, sections=sections, mode=mode, layout=layout,
                                   rotary_offset=rotary_offset)


def make_backend(device=None):
    return Mutant(device)
