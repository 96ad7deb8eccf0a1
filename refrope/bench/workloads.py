"""The workloads of ``refrope bench``: each one the oracle, its anchor, and the machine's limit, built side by side.

* ``apply_rope``: ``refrope.apply_rope`` on q and k (float64, positions ``0..n-1``, default RoPE, ``"half"``)
  against transformers' ``apply_rotary_pos_emb`` in float64 (cos/sin tables precomputed, as a model does) and
  against ``np.copyto`` of the same bytes into preallocated arrays (the memory-bandwidth limit; ``np.copy``, which
  also allocates its output as ``apply_rope`` does, is shown beside it, and so is NumPy's ``cos`` and ``sin`` of
  the angle table of q and of k, one thread: with the allocating copy, the work any NumPy ``apply_rope`` that
  returns a new array must do); ``precision="exact"`` against the fast mode.
* ``attention``: causal ``refrope.attention`` (one head, ``method="auto"``, RoPE inside the timed call) against
  ``torch.nn.functional.scaled_dot_product_attention`` in float64 (q and k rotated beforehand) and against the
  DGEMM bound: the same causal products (query block against the keys up to it, then against the values) and
  nothing else; ReRoPE (``relpos.rerope(window)``) against plain RoPE.
Each case is checked against the oracle once before it is timed.
Spec: docs/spec/performance.md [PERF-BENCH-1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Sizes", "FULL", "QUICK", "rope_cases", "attention_cases", "attention_inputs", "relpos_of"]


@dataclass(frozen=True)
class Sizes:
    """The sizes of one bench run."""

    rope_shape: tuple[int, int, int] = (32, 4096, 128)   # (heads, n, head_dim) of q and of k
    attn_n: int = 8192
    attn_d: int = 128
    window: int = 1024                                   # ReRoPE's window
    scaling: tuple[int, ...] = (1024, 2048, 4096, 8192, 16384, 32768, 65536)
    repeats: int = 7


FULL = Sizes()
QUICK = Sizes(rope_shape=(2, 64, 32), attn_n=256, attn_d=16, window=32, scaling=(128, 256), repeats=2)
"""Tiny sizes: the command's structure and output in a second (the bench's own tests use it)."""


def relpos_of(name: str):
    """``"rope"`` or ``"rerope(W)"`` as the ``relpos`` argument of :func:`refrope.attention`.

    >>> relpos_of("rope"), relpos_of("rerope(8)").name
    ('rope', 'rerope')
    """
    from .. import relpos

    if name == "rope":
        return "rope"
    if name.startswith("rerope(") and name.endswith(")"):
        return relpos.rerope(int(name[7:-1]))
    raise ValueError(f"relpos must be 'rope' or 'rerope(W)', got {name!r}")


def attention_inputs(n: int, d: int, seed: int = 0):
    """``q, k, v`` of shape ``(1, n, d)`` (standard normal) and the default frequencies of ``d``."""
    import refrope

    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((1, n, d)) for _ in range(3))
    return q, k, v, refrope.inv_freq("default", d)


def _transformers(q, k, positions, freqs):
    """transformers' ``apply_rotary_pos_emb`` on torch views of q and k (None when not installed)."""
    try:
        import torch
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    except ImportError:
        return None
    import refrope

    tq, tk = torch.from_numpy(q)[None], torch.from_numpy(k)[None]               # (batch, heads, seq, dim)
    cos, sin = (torch.from_numpy(t)[None] for t in refrope.cos_sin(positions, freqs))  # (batch, seq, dim)
    return lambda: apply_rotary_pos_emb(tq, tk, cos, sin)


def rope_cases(sizes: Sizes) -> dict:
    """The ``apply_rope`` cases (name -> callable), checked against each other first."""
    import refrope

    rng = np.random.default_rng(0)
    q, k = rng.standard_normal(sizes.rope_shape), rng.standard_normal(sizes.rope_shape)
    positions = np.arange(sizes.rope_shape[1])
    freqs = refrope.inv_freq("default", sizes.rope_shape[2])
    out_q, out_k = np.empty_like(q), np.empty_like(k)
    phi = positions[:, None] * freqs.inv_freq          # the angles; their cos and sin are part of every call
    cases = {"refrope": lambda: (refrope.apply_rope(q, positions, freqs), refrope.apply_rope(k, positions, freqs)),
             "refrope exact": lambda: (refrope.apply_rope(q, positions, freqs, precision="exact"),
                                       refrope.apply_rope(k, positions, freqs, precision="exact")),
             "copy": lambda: (np.copyto(out_q, q), np.copyto(out_k, k)),
             "copy (allocating)": lambda: (q.copy(), k.copy()),
             "cos/sin tables": lambda: [f(phi) for f in (np.cos, np.sin) for _ in (q, k)]}
    hf = _transformers(q, k, positions, freqs)
    want = cases["refrope"]()
    # fast mode's bound [N-FAST-2] against the exact rotation, m r ((eps + u)|phi| + 8u) with eps = 2 C_v u, C_v = 3
    # for "default" [N-FAST-1]; taken with the largest pair norm and angle (m = 1)
    u = 2.0 ** -53
    pairs = max(float(np.hypot(x[..., :x.shape[-1] // 2], x[..., x.shape[-1] // 2:]).max()) for x in (q, k))
    bound = pairs * (7 * u * float(positions.max() * freqs.inv_freq.max()) + 8 * u)

    def agree(got) -> bool:
        return all(np.abs(np.asarray(g) - w).max() <= bound for g, w in zip(got, want))

    if hf is not None:
        cases["transformers"] = hf
        if not agree(g[0].numpy() for g in hf()):
            raise AssertionError("transformers' apply_rotary_pos_emb and refrope.apply_rope disagree beyond the bound")
    if not agree(cases["refrope exact"]()):
        raise AssertionError("apply_rope's exact and fast modes disagree beyond N-FAST-2's bound")
    return cases


def _dgemm_bound(q, k, v, block: int):
    """The causal products alone, query block by query block: the arithmetic any exact method does."""
    n = q.shape[0]

    def run():
        for s in range(0, n, block):
            e = min(s + block, n)
            np.matmul(q[s:e] @ k[:e].T, v[:e])
    return run


def attention_cases(sizes: Sizes) -> dict:
    """The attention cases (name -> callable), checked against the oracle first."""
    import refrope

    from .._attention.setup import DEFAULT_BLOCK

    n, d = sizes.attn_n, sizes.attn_d
    q, k, v, freqs = attention_inputs(n, d)
    block = min(DEFAULT_BLOCK, max(1, n // 4))
    rerope = relpos_of(f"rerope({sizes.window})")
    cases = {"refrope": lambda: refrope.attention(q, k, v, freqs, block_size=block),
             "refrope ReRoPE": lambda: refrope.attention(q, k, v, freqs, relpos=rerope, block_size=block),
             "DGEMM bound": _dgemm_bound(q[0], k[0], v[0], block)}
    want = cases["refrope"]()
    try:
        import torch
    except ImportError:
        return cases
    positions = np.arange(n)
    qt, kt, vt = (torch.from_numpy(np.ascontiguousarray(x))[None] for x in
                  (refrope.apply_rope(q, positions, freqs), refrope.apply_rope(k, positions, freqs), v))
    cases["torch SDPA"] = lambda: torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, is_causal=True)
    got = cases["torch SDPA"]()[0].numpy()
    if not np.allclose(got, want, rtol=0, atol=1e-10 * math.sqrt(n)):
        raise AssertionError("torch SDPA and refrope.attention disagree")
    return cases
