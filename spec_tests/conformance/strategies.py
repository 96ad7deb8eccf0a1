"""Conformance inputs of apply_rope and inv_freq: rotary dimensions 2 to 256 (128 and 256 forced), positions up to
2^24, theta up to 1e6, batch axes and per-batch positions, every branch of every variant's parameters.

Each input is a function of a chooser (:mod:`spec_tests.branches`): hypothesis drives it for random examples, a
:class:`~spec_tests.branches.Plan` for the explicit ones, which force every labelled branch. Variant parameters
come from the registry's draw (:attr:`refrope.Variant.draw`, always valid). Every array is drawn in float64; the
check rounds it to the dtype under test through the backend. The hypothesis strategies at the end
(:data:`thetas`, :data:`long_positions`, :data:`pair_counts`) serve the tests that draw directly.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import refrope

MAX_POSITION = 2**20
"""The largest position of attention and of the multimodal rotations."""
MAX_ROPE_POSITION = 2**24
"""The largest position of apply_rope (float32 holds every integer up to it)."""
ROPE_PLANS = 14
"""Explicit examples of each apply_rope test (:class:`spec_tests.branches.Plan`: one option other than the first at a
time, 13 of them for LongRoPE, then mixes)."""
FREQ_PLANS = 8
"""Explicit examples of each inv_freq test (7 options other than the first for LongRoPE)."""
FAMOUS_THETAS = (10_000.0, 150_000.0, 500_000.0, 1_000_000.0)
BATCH = ("none", "axes", "positions")
"""No batch axis; batch axes sharing the positions (flag ``batch``); per-batch positions (flag ``batch_positions``)."""


def theta(c) -> float:
    return c.real(2.0, 1e6, favour=FAMOUS_THETAS, label="theta")


def rotary_dim(c, *, smallest: int = 1) -> int:
    """2 to 96 (64, 80, 96 favoured), or 128, or 256: the head sizes of released models forced."""
    size = c.choice(("any", 128, 256), label="rotary dim", weights=(4, 1, 1))
    if size != "any":
        return size
    return 2 * c.integer(smallest, 48, favour=tuple(p for p in (1, 32, 40, 48) if p >= smallest), label="pairs")


def batch_kind(c, flags, forced: str | None = None, kinds=BATCH) -> str:
    """One of ``kinds`` (``forced`` if given), downgraded to what the backend declares (``flags``)."""
    kind = c.choice(kinds, label="batch") if forced is None else forced
    if kind == "positions" and "batch_positions" not in flags:
        kind = "axes"
    return kind if kind == "none" or "batch" in flags else "none"


def batch_shape(c, kind: str) -> tuple[int, ...]:
    """``()`` without batch axes, else one or two axes of 1 or 2 entries (2 or 3 sequences in the first axis when
    each has its own positions)."""
    if kind == "none":
        return ()
    first = c.integer(2, 3, label="sequences") if kind == "positions" else c.integer(1, 2, label="batch size")
    return (first,) + ((c.integer(1, 2, label="batch size"),) if c.integer(1, 2, label="batch axes") == 2 else ())


def rope_positions(c, shape: tuple[int, ...]) -> np.ndarray:
    """Integer positions of ``shape``: near 0, near 2^20, near 2^24, or anywhere up to 2^24."""
    where = c.choice(("small", "near 2^20", "near 2^24", "anywhere"), label="positions", weights=(3, 1, 1, 1))
    low, high = {"small": (0, 2**11), "near 2^20": (MAX_POSITION - 64, MAX_POSITION + 64),
                 "near 2^24": (MAX_ROPE_POSITION - 64, MAX_ROPE_POSITION), "anywhere": (0, MAX_ROPE_POSITION)}[where]
    favour = {"small": (0, 1, 2**11), "near 2^20": (MAX_POSITION - 1,), "near 2^24": (MAX_ROPE_POSITION,),
              "anywhere": (2**16,)}[where]
    values = [c.integer(low, high, favour=favour, label="position") for _ in range(int(np.prod(shape)))]
    return np.array(values, dtype=np.int64).reshape(shape)


def rope_case(c, variant: str, *, offsets: bool, flags=frozenset({"batch", "batch_positions"}), batch=None):
    """``(x, positions, freqs, rotary_offset)`` for apply_rope: ``x`` of shape ``(seq, D)``, ``(B, seq, D)`` or
    ``(B, H, seq, D)``, positions ``(seq,)`` or (``batch="positions"``) per batch ``(B, seq)`` / ``(B, 1, seq)``;
    ``offsets`` allows ``rotary_offset > 0``, ``flags`` the batch kinds, ``batch`` forces one."""
    d = rotary_dim(c)
    shifted = offsets and c.boolean(label="rotary_offset > 0")
    extra = c.integer(1 if shifted else 0, 3, label="pass_through")
    offset = c.integer(1, extra, label="rotary_offset") if shifted else 0
    freqs = refrope.inv_freq(variant, d, theta=theta(c), **refrope.VARIANTS[variant].draw(d, c))
    seq = c.integer(1, 4, label="seq")
    kind = batch_kind(c, flags, batch, kinds=BATCH[:2])  # per-batch positions: test_conformance_batch.py
    lead = batch_shape(c, kind)
    if kind == "positions":
        positions = rope_positions(c, lead[:1] + (1,) * (len(lead) - 1) + (seq,))
    else:
        positions = rope_positions(c, (seq,))
    x = c.array(lead + (seq, d + extra), -4.0, 4.0, label="x")
    return x, positions, freqs, offset


def freq_case(c, variant: str, *, pairs: int | None = None):
    """``(rotary_dim, theta, params)`` for inv_freq: rotary dims from 4 (or ``2 * pairs``), every branch of the
    variant's draw (``seq_len`` at L - 1, L and L + 1 among them: huggingface/transformers#33129,
    unslothai/unsloth#10681)."""
    d = rotary_dim(c, smallest=2) if pairs is None else 2 * pairs
    return d, theta(c), refrope.VARIANTS[variant].draw(d, c)


thetas = st.sampled_from(list(FAMOUS_THETAS)) | st.floats(2.0, 1e6)
pair_counts = st.sampled_from([1, 32, 40, 48]) | st.integers(1, 12)   # rotary dims 2, 64, 80, 96, ...
long_positions = st.sampled_from([0, 1, 2**11, 2**16, MAX_POSITION - 1]) | st.integers(0, MAX_POSITION)
