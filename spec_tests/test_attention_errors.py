"""[A-ERR-1] [A-MEM-1]: bad input raises naming the parameter; inputs are never modified; memory stays linear."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refrope
from refrope import query_scale as qs
from refrope import relpos as rp
from spec_tests.attn_strategies import METHODS, attention_cases

Q, K, V, F = np.ones((1, 3, 4)), np.ones((1, 3, 4)), np.ones((1, 3, 2)), [1.0, 0.1]


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((np.ones((3, 4)), K, V, F), {}, ValueError, r"q must have shape \(\.\.\., heads, seq, dim\)"),
    ((Q, np.ones((1, 3, 6)), V, F), {}, ValueError, "same head dimension"),
    ((Q, K, np.ones((1, 2, 2)), F), {}, ValueError, "v must have shape"),
    ((np.ones((2, 1, 3, 4)), np.ones((3, 1, 3, 4)), np.ones((3, 1, 3, 2)), F), {}, ValueError, "do not broadcast"),
    ((Q, np.ones((1, 0, 4)), np.ones((1, 0, 2)), F), {"positions_q": [0, 1, 2]}, ValueError, "n_q, n_k, d >= 1"),
    ((np.full((1, 3, 4), np.nan), K, V, F), {}, ValueError, "q must be finite"),
    ((Q, K, np.full((1, 3, 2), np.inf), F), {}, ValueError, "v must be finite"),
    ((Q.astype(complex), K, V, F), {}, TypeError, "q must hold real numbers"),
    ((Q, K, V, [1.0, 0.1, 0.01]), {}, ValueError, r"rotary_dim=6 = 2 \* len\(inv_freq\)\) exceeds the head dim"),
    ((Q, K, V, F), {"rotary_offset": 1}, ValueError, r"rotary slice \[1, 5\) \(rotary_offset=1.*d=4"),
    ((Q, K, V, F), {"rotary_offset": -1}, ValueError, "rotary_offset must be >= 0"),
    ((Q, K, V, F), {"rotary_offset": 1.0}, TypeError, "rotary_offset must be an integer"),
    ((Q, K, V, F), {"scale": 0.0}, ValueError, "scale must be > 0"),
    ((Q, K, V, F), {"scale": True}, TypeError, "scale must be a real number"),
    ((Q, K, V, F), {"sliding_window": 0}, ValueError, "sliding_window must be > 0"),
    ((Q, K, V, F), {"method": "flash"}, ValueError, "method must be one of"),
    ((Q, K, V, F), {"layout": "neox"}, ValueError, "layout must be one of"),
    ((Q, K, V, F), {"positions_q": [0, 1]}, ValueError, r"positions_q of shape \(2,\) does not broadcast"),
    ((Q, K, V, F), {"positions_k": [0, 1, np.nan]}, ValueError, "positions_k must be finite"),
    ((Q, K, V, F), {"key_mask": np.ones(4, bool)}, ValueError, "key_mask of shape"),
    ((Q, K, V, F), {"block_size": 0}, ValueError, "block_size must be >= 1"),
    ((Q, K, V, F), {"causal": 1}, TypeError, "causal must be a bool"),
    ((Q, K, V, F), {"relpos": "rerope"}, ValueError, "relpos must be 'rope' or a map"),
    ((Q, K, V, F), {"relpos": 3}, TypeError, "relpos must be 'rope' or a map"),
    ((Q, K, V, F), {"query_scale": 2.0}, TypeError, "query_scale must be None or a callable"),
    ((Q, K, V, F), {"query_scale": lambda p: p * np.nan}, ValueError, r"query_scale\(positions\) must be finite"),
    ((Q, K, V, F), {"query_scale": lambda p: np.ones(5)}, ValueError, "must have the shape of positions"),
    ((Q, K, V, F), {"query_scale": qs.logn(8), "positions_q": [-1, 0, 1]}, ValueError, "positions must be >= 0"),
    ((Q * 1e160, K * 1e160, V, F), {}, ValueError, "logits could overflow"),
    ((Q, K, V * 1e300, F), {}, ValueError, "v is so large"),
    ((Q, K, V, F), {"mscale_all_dim": "1"}, ValueError, "mscale_all_dim"),
])
def test_bad_input_raises_naming_the_parameter(args, kwargs, error, match):
    """[A-ERR-1] Each bad input raises the documented error with a message naming the parameter and value."""
    with pytest.raises(error, match=match):
        refrope.attention(*args, **kwargs)


@pytest.mark.parametrize("method", METHODS)
@given(data=st.data())
def test_inputs_are_never_modified(method, data):
    """[A-ERR-1] q, k, v, positions and masks are left unchanged, and read-only inputs are accepted."""
    case = data.draw(attention_cases(explicit_positions=True), label="case")
    arrays = [case.q, case.k, case.v] + [case.kwargs[key] for key in ("positions_q", "positions_k", "key_mask")
                                         if case.kwargs.get(key) is not None]
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.setflags(write=False)
    case.call(method=method)
    case.call(refrope.attention_probs, method=method)
    for a, c in zip(arrays, copies):
        assert np.array_equal(a, c)


def _peak_bytes(n: int, relpos, causal: bool, method: str, block_size: int) -> int:
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((1, n, 8)) for _ in range(3))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        refrope.attention(q, k, v, [1.0, 0.1, 0.01, 0.001], relpos=relpos, causal=causal, method=method,
                          block_size=block_size)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("relpos, causal", [("rope", True), (rp.rerope(100), True), (rp.leaky_rerope(64, 8), False),
                                            (rp.inv_leaky_rerope(64, 0.25), True)])
def test_memory_does_not_grow_with_the_score_matrix(relpos, causal):
    """[A-MEM-1] "auto" (tiles of 128) at n = 2048 peaks far below the n x n float64 matrix (32 MiB), and doubling n
    from 1024 does not quadruple the peak (it would if any n x n array were held)."""
    small, large = (_peak_bytes(n, relpos, causal, "auto", 128) for n in (1024, 2048))
    assert large < 2048 * 2048 * 8 / 4
    assert large < 3 * small          # an n x n array would make it about 4x


@pytest.mark.parametrize("method", ["direct", "two_pass", "decode"])
def test_reference_methods_hold_strips_not_the_matrix(method):
    """[A-MEM-1] The strip methods hold one strip of rows (64 here, at most 2**18 logits): at n = 1024 the peak is far
    below the 8 MiB matrix, and doubling n from 512 does not quadruple it."""
    small, large = (_peak_bytes(n, rp.leaky_rerope(100, 4), True, method, 64) for n in (512, 1024))
    assert large < 1024 * 1024 * 8 / 2
    assert large < 3 * small
