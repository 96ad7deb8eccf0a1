"""[PERF-THREADS-1]: the oracle's own threads and the BLAS thread count never change a result bit.

The expected values come from the unblocked, single-threaded formulas: :func:`refrope.rotary.rotate_pairs` on
whole arrays for the fast rotation, :func:`refrope.precision.exact.rotate_words` on whole arrays for the exact one,
and for attention the same call with ``REFROPE_NUM_THREADS=1`` (heads and query blocks one after the other). Block
and threshold sizes are shrunk so that small inputs cross many blocks and the thread pool.
"""

from __future__ import annotations

import numpy as np
import pytest

import refrope
from refrope import _parallel, _rotate_rows
from refrope._attention import api as attention_api
from refrope._attention import blocks
from refrope.layouts import LAYOUTS, pair_slices
from refrope.precision import exact
from refrope.rotary import rotate_pairs


@pytest.fixture
def many_blocks(monkeypatch):
    """Tiny blocks, and the pool for every size."""
    monkeypatch.setattr(_rotate_rows, "_BLOCK", 48)
    monkeypatch.setattr(_rotate_rows, "_EXACT_BLOCK", 40)
    monkeypatch.setattr(_rotate_rows, "_PARALLEL_MIN", 0)
    monkeypatch.setattr(blocks, "_PARALLEL_LOGITS", 0)
    monkeypatch.setattr(attention_api, "_PARALLEL_LOGITS", 0)


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


CASES = [  # (x shape, positions shape, rotary_offset, rotary dim, dtype, magnitude)
    ((3, 37, 16), (37,), 0, 16, np.float64, 1.0),
    ((2, 3, 29, 20), (2, 1, 29), 3, 12, np.float32, 1.37),
    ((4, 5, 10), (4, 5), 0, 10, np.float64, 0.6),
    ((3, 7, 8), (1,), 0, 8, np.float64, 1.0),
]


@pytest.mark.parametrize("threads", ["1", "3"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_apply_rope_has_the_bits_of_the_unblocked_formula(case, layout, threads, many_blocks, monkeypatch):
    """[PERF-THREADS-1] apply_rope (fast) over blocks and threads equals rotate_pairs on the whole array, bit for
    bit, for every layout, partial rotary with an offset, float32 input, a magnitude, and positions shared by the
    heads, per head, or one for all."""
    monkeypatch.setenv("REFROPE_NUM_THREADS", threads)
    shape, pshape, offset, d, dtype, magnitude = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape).astype(dtype)
    positions = rng.integers(0, 2**20, pshape) + rng.choice([0.0, 0.25], pshape)
    freqs = refrope.Frequencies(refrope.inv_freq("default", d).inv_freq, attention_factor=magnitude)
    got = refrope.apply_rope(x, positions, freqs, layout=layout, rotary_offset=offset)
    phi = np.broadcast_to(positions, shape[:-1])[..., None] * freqs.inv_freq
    want = x.astype(np.float64)
    want[..., offset:offset + d] = rotate_pairs(x[..., offset:offset + d].astype(np.float64),
                                                np.cos(phi) * magnitude, np.sin(phi) * magnitude, layout)
    assert np.array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("threads", ["1", "3"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_exact_apply_rope_has_the_bits_of_the_unblocked_formula(layout, threads, many_blocks, monkeypatch):
    """[PERF-THREADS-1] apply_rope(precision="exact") over blocks and threads equals rotate_words on the whole
    array, bit for bit."""
    monkeypatch.setenv("REFROPE_NUM_THREADS", threads)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 23, 12))
    positions = rng.integers(0, 2**30, 23).astype(np.float64)
    freqs = refrope.inv_freq("yarn", 12, factor=8.0, original_max_position_embeddings=64)
    got = refrope.apply_rope(x, positions, freqs, layout=layout, precision="exact")
    omega, magnitude = exact.exact_inv_freq(freqs)
    words = list(exact.cos_sin_words(positions, omega))
    a_in, b_in = pair_slices(12, layout)
    a_out, b_out = pair_slices(12, layout, output=True)
    want = np.empty_like(x)
    want[..., a_out], want[..., b_out] = exact.rotate_words(x[..., a_in], x[..., b_in], words, magnitude)
    assert np.array_equal(_bits(got), _bits(want))


def test_exact_cos_sin_words_over_blocks_and_threads(monkeypatch):
    """[PERF-THREADS-1] The exact cos/sin words, computed over many blocks on three threads, have the bits of one
    block on one thread."""
    from refrope.precision import trig
    from refrope.precision.multi import Multi

    rng = np.random.default_rng(3)
    positions = rng.integers(0, 2**36, 300) + rng.choice([0.0, 0.5], 300)
    omega = Multi.of(refrope.inv_freq("default", 16).inv_freq, 3)
    monkeypatch.setenv("REFROPE_NUM_THREADS", "1")
    want = exact.cos_sin_words(positions, omega)
    monkeypatch.setattr(trig, "_BLOCK", 40)
    monkeypatch.setenv("REFROPE_NUM_THREADS", "3")
    got = exact.cos_sin_words(positions, omega)
    assert all(np.array_equal(_bits(g), _bits(w)) for g, w in zip(got, want))


ATTENTION = [
    {}, {"relpos": refrope.relpos.rerope(9)}, {"relpos": refrope.relpos.leaky_rerope(9, 4.0)},
    {"sliding_window": 13.0}, {"causal": False, "relpos": refrope.relpos.rerope(7)}, {"method": "direct"},
    {"method": "two_pass", "relpos": refrope.relpos.rerope(9)}, {"chunk_size": 11},
]


@pytest.mark.parametrize("options", ATTENTION, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "rope")
def test_attention_bits_do_not_depend_on_the_thread_counts(options, many_blocks, monkeypatch):
    """[PERF-THREADS-1] attention (every method, map and mask) gives the same bits with 1 or 3 oracle threads
    (heads and query blocks over threads) and whatever BLAS' own thread count was before the call."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 4, 40, 8)), rng.standard_normal((2, 2, 40, 8)), rng.standard_normal((2, 2, 40, 6))
    freqs = refrope.inv_freq("default", 8)
    results = []
    for threads, blas in (("1", 1), ("3", 1), ("3", 2), ("1", 2)):
        monkeypatch.setenv("REFROPE_NUM_THREADS", threads)
        with threadpoolctl.threadpool_limits(blas, user_api="blas"):
            results.append(refrope.attention(q, k, v, freqs, block_size=8, **options))
    assert all(np.array_equal(_bits(r), _bits(results[0])) for r in results[1:])


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_thread_count_is_an_error(value, monkeypatch):
    """[PERF-THREADS-1] REFROPE_NUM_THREADS that is not a positive integer is a ValueError naming it."""
    monkeypatch.setenv("REFROPE_NUM_THREADS", value)
    with pytest.raises(ValueError, match=f"REFROPE_NUM_THREADS must be a positive integer, got '{value}'"):
        _parallel.workers()


def test_parallel_map_keeps_order_and_runs_nested_calls_serially(monkeypatch):
    """[PERF-THREADS-1] parallel_map returns the results in the order of the items, and a call from inside a
    worker runs in that worker (no pool inside the pool)."""
    import threading

    monkeypatch.setenv("REFROPE_NUM_THREADS", "2")
    inner = _parallel.parallel_map(lambda i: _parallel.parallel_map(lambda j: threading.get_ident(), range(3)),
                                   range(4))
    assert all(len(set(ids)) == 1 for ids in inner)
    assert _parallel.parallel_map(lambda i: i * 2, range(10)) == list(range(0, 20, 2))
