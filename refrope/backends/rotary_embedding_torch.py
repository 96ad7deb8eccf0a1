r"""``rotary_embedding_torch``: lucidrains' rotary-embedding-torch driven through the backend protocol.

* ``inv_freq``: ``RotaryEmbedding(dim, theta=..., theta_rescale_factor=k).freqs`` (``"default"``; ``"ntk_aware"``
  is its ``theta_rescale_factor``, :math:`\theta k^{d/(d-2)}`);
* ``apply_rope``: ``RotaryEmbedding(dim, custom_freqs=inv_freq).forward(positions)`` then the library's
  ``apply_rotary_emb(freqs, x, start_index=rotary_offset, scale=m)``, layout ``"interleaved"``. Positions are
  converted to the activation dtype first, exactly as ``rotate_queries_or_keys`` does (``get_seq_pos(...,
  dtype=t.dtype)``), so the library's own rounding of positions is what the suite sees;
* ``cos_sin``: ``forward(positions)`` (each angle twice), cos and sin times m, in the requested dtype.

Spec: docs/spec/conformance.md [K-PROTO-1], [K-ADAPT-1]; findings in docs/known_libraries.md.
"""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
import torch
from rotary_embedding_torch import RotaryEmbedding, apply_rotary_emb

from .torch_ref import TORCH_DTYPES, TorchReference


class RotaryEmbeddingTorch(TorchReference):
    """The backend object (see :func:`make_backend`)."""

    name = "rotary_embedding_torch"
    capabilities = frozenset({"apply_rope", "cos_sin", "inv_freq", "rotary_offset", "batch", "batch_positions",
                              "layout:interleaved",
                              "variant:default", "variant:ntk_aware"})

    def __init__(self, device: str | None = None) -> None:
        super().__init__(device)
        self.versions = {"rotary-embedding-torch": version("rotary-embedding-torch"), "torch": torch.__version__,
                         "device": str(self.device)}

    def _angles(self, positions, freqs, dtype: torch.dtype) -> torch.Tensor:
        custom = torch.tensor(np.asarray(freqs.inv_freq), dtype=torch.float32)
        # dim only feeds theta_rescale_factor ** (dim / (dim - 2)), unused with custom_freqs but a division by
        # zero at dim = 2 (a finding of inv_freq, docs/known_libraries.md): give it 4 there
        module = RotaryEmbedding(max(freqs.rotary_dim, 4), custom_freqs=custom, cache_if_possible=False)
        module = module.to(self.device)
        pos = torch.tensor(np.asarray(positions, dtype=np.float64), device=self.device).to(dtype)  # get_seq_pos
        return module(pos)  # (..., d): each angle twice, interleaved

    def apply_rope(self, x, positions, freqs, *, layout="interleaved", rotary_offset=0):
        if layout != "interleaved":
            raise ValueError(f"rotary-embedding-torch has the interleaved layout only, got {layout!r}")
        angles = self._angles(positions, freqs, x.dtype)
        return apply_rotary_emb(angles, x, start_index=rotary_offset, scale=freqs.attention_factor)

    def cos_sin(self, positions, freqs, *, layout="interleaved", dtype="float32"):
        angles = self._angles(positions, freqs, TORCH_DTYPES[dtype])
        m = freqs.attention_factor
        return (angles.cos() * m).to(TORCH_DTYPES[dtype]), (angles.sin() * m).to(TORCH_DTYPES[dtype])

    def inv_freq(self, variant, rotary_dim, *, theta=10000.0, **params):
        rescale = params.get("factor", 1.0) if variant == "ntk_aware" else 1.0
        return RotaryEmbedding(rotary_dim, theta=theta, theta_rescale_factor=rescale).freqs.detach(), 1.0


def make_backend(device: str | None = None) -> RotaryEmbeddingTorch:
    """rotary-embedding-torch on ``device`` (default CPU).

    >>> make_backend().capabilities >= {"apply_rope", "layout:interleaved"}
    True
    """
    return RotaryEmbeddingTorch(device)
