"""apply_rope with "half" and "interleaved" swapped (NeoX vs GPT-J confusion: vllm-project/vllm#747)."""
from refrope.backends.torch_ref import TorchReference

DEFECT = 'layouts "half" and "interleaved" swapped'
CAUGHT_BY = "K-APPLY-1"
PROBE = {"test": "apply_rope", "variant": "default", "layout": "half"}
_SWAP = {"half": "interleaved", "interleaved": "half"}


class Mutant(TorchReference):
    def apply_rope(self, x, positions, freqs, *, layout="half", rotary_offset=0):
        return super().apply_rope(x, positions, freqs, layout=_SWAP.get(layout, layout), rotary_offset=rotary_offset)


def make_backend(device=None):
    return Mutant(device)
