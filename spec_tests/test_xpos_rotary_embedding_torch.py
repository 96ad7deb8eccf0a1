"""[XPOS-RET-1]: xPos against lucidrains/rotary-embedding-torch 0.9.1 (``use_xpos=True``), in float64, and its
cached-keys finding (docs/known_libraries.md).

The library keeps its frequencies and xPos bases in float32 buffers and casts positions to them; the tests
widen the frequencies to float64 (same values, passed to refrope too) and recompute the bases with the library's
formula ``(arange(0, dim, 2) + 0.4 dim) / (1.4 dim)`` in float64, so that what is compared is the formula, not
float32 rounding. (``RotaryEmbedding(dim=2)`` raises ZeroDivisionError: docs/known_libraries.md.)
"""

from __future__ import annotations

import numpy as np
import pytest

import refrope

torch = pytest.importorskip("torch")
ret = pytest.importorskip("rotary_embedding_torch")

TOL = 1e-12  # float64 rotations and powers of O(1) vectors at positions below 64


def _rotary(dim: int, base: float = 512.0):
    rotary = ret.RotaryEmbedding(dim=dim, use_xpos=True, xpos_scale_base=base, cache_if_possible=False)
    rotary.freqs.data = rotary.freqs.data.double()
    rotary.scale = (torch.arange(0, dim, 2, dtype=torch.float64) + 0.4 * dim) / (1.4 * dim)
    return rotary, refrope.Frequencies(rotary.freqs.detach().numpy().astype(np.float64))


@pytest.mark.parametrize("n", [1, 2, 7, 12])
@pytest.mark.parametrize("dim", [4, 8, 16])
def test_rotated_queries_and_keys_are_apply_xpos_about_the_centre(n, dim):
    """[XPOS-RET-1] rotate_queries_and_keys = apply_rope(apply_xpos(x, t - n//2, role), n//2) (interleaved pairs,
    magnitude 1) for queries (zeta^+) and keys (zeta^-), pass-through coordinates untouched."""
    rotary, freqs = _rotary(dim)
    generator = torch.Generator().manual_seed(n * dim)
    q = torch.randn(1, 2, n, dim + 3, dtype=torch.float64, generator=generator)
    k = torch.randn(1, 2, n, dim + 3, dtype=torch.float64, generator=generator)
    with torch.no_grad():
        rq, rk = rotary.rotate_queries_and_keys(q, k)
    t = np.arange(n, dtype=float)
    centre = np.full(n, float(n // 2))
    for x, rx, role in ((q, rq, "q"), (k, rk, "k")):
        scaled = refrope.apply_xpos(x.numpy(), t - n // 2, freqs, role=role, layout="interleaved")
        want = refrope.apply_rope(scaled, centre, freqs, layout="interleaved")
        np.testing.assert_allclose(rx.numpy(), want, rtol=0, atol=TOL)


@pytest.mark.parametrize("n", [3, 8])
def test_scores_are_those_of_apply_xpos_at_shifted_positions(n):
    """[XPOS-RET-1] [XPOS-X1-1] Their scores q.k equal those of apply_xpos at positions t - n//2 (a common shift of
    the rotation cancels; the xPos exponent is where the centre matters)."""
    rotary, freqs = _rotary(8)
    generator = torch.Generator().manual_seed(n)
    q, k = (torch.randn(1, 1, n, 8, dtype=torch.float64, generator=generator) for _ in range(2))
    with torch.no_grad():
        rq, rk = rotary.rotate_queries_and_keys(q, k)
    t = np.arange(n, dtype=float) - n // 2
    xq = refrope.apply_xpos(q.numpy(), t, freqs, role="q", layout="interleaved")
    xk = refrope.apply_xpos(k.numpy(), t, freqs, role="k", layout="interleaved")
    np.testing.assert_allclose((rq @ rk.transpose(-1, -2)).numpy(), xq @ np.swapaxes(xk, -1, -2), rtol=0, atol=TOL)


@pytest.mark.xfail(strict=True, reason="rotary-embedding-torch 0.9.1 rotate_queries_with_cached_keys centres the "
                                       "queries' xPos exponent at q_len//2 and the keys' at k_len//2 "
                                       "(docs/known_libraries.md)")
def test_decoding_with_cached_keys_gives_the_full_scores():
    """[XPOS-RET-1] Finding: the last query's scores against cached keys (rotate_queries_with_cached_keys) should be
    the last row of the full computation (rotate_queries_and_keys); the two centres differ by (k_len - q_len)//2."""
    rotary, _ = _rotary(8)
    generator = torch.Generator().manual_seed(0)
    q, k = (torch.randn(1, 1, 9, 8, dtype=torch.float64, generator=generator) for _ in range(2))
    with torch.no_grad():
        fq, fk = rotary.rotate_queries_and_keys(q, k)
        cq, ck = rotary.rotate_queries_with_cached_keys(q[..., -1:, :], k)
    full = (fq @ fk.transpose(-1, -2))[..., -1:, :]
    np.testing.assert_allclose((cq @ ck.transpose(-1, -2)).numpy(), full.numpy(), rtol=0, atol=TOL)
