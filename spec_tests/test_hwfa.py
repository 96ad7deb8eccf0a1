"""[HWFA-FIELD-1] [HWFA-WINDOW-1] [HWFA-STACK-1]: hybrid window-full attention (docs/spec/schemes.md;
kexue.fm/archives/9603). The dependency structure is measured by perturbing one input row at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import refrope
from refrope import hwfa


@given(window=st.integers(1, 64), layers=st.integers(0, 48))
def test_receptive_field_counts_tokens_reached(window, layers):
    """[HWFA-FIELD-1] (w - 1) L + 1: the largest distance a chain of L windows (each 0 <= r < w) reaches, plus one."""
    reach = sum(window - 1 for _ in range(layers))
    assert hwfa.receptive_field(window, layers) == reach + 1


def test_receptive_field_of_the_articles_model():
    """[HWFA-FIELD-1] 23 window layers of w = 16: 346 (kexue.fm/archives/9603)."""
    assert hwfa.receptive_field(16, 23) == 346


@given(n=st.integers(1, 8192), layers=st.integers(2, 64), alpha=st.sampled_from([0.75, 0.5, 1.0]) | st.floats(0.01, 2))
def test_window_for_is_the_largest_admissible_window(n, layers, alpha):
    """[HWFA-WINDOW-1] The result w satisfies (w - 1)(L - 1) + 1 <= alpha N and w + 1 does not (exact rationals)."""
    from fractions import Fraction
    budget = Fraction(alpha) * n
    if budget < 1:
        with pytest.raises(ValueError, match="alpha \\* training_length must be >= 1"):
            hwfa.window_for(n, layers, alpha)
        return
    w = hwfa.window_for(n, layers, alpha)
    assert (w - 1) * (layers - 1) + 1 <= budget < w * (layers - 1) + 1


def test_window_for_the_articles_model_is_seventeen():
    """[HWFA-WINDOW-1] N = 512, L = 24, alpha = 3/4: 17 (16 * 23 + 1 = 369 <= 384 < 392); the article used 16."""
    assert hwfa.window_for(512, 24) == 17
    assert hwfa.receptive_field(17, 23) == 369 <= 384 < hwfa.receptive_field(18, 23)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(4, 14), layers=st.integers(1, 4), window=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
@example(n=8, layers=4, window=1, seed=89)  # a weight underflowed to 0 with the former weight scale
def test_each_layer_sees_exactly_its_receptive_field(n, layers, window, seed):
    """[HWFA-STACK-1] Changing x[j] leaves h_l[i] bit for bit unchanged outside i - (w - 1) l - 1 < j <= i (l < L)
    and j <= i (l = L), and changes it inside (random weights, small enough that no attention weight underflows
    to 0: a weight of exactly 0 would hide a dependence the structure has)."""
    rng = np.random.default_rng(seed)
    d = 4
    x = rng.standard_normal((n, d))
    weights = rng.standard_normal((layers, 3, d, d)) / 4
    freqs = refrope.inv_freq("default", 2)
    base = hwfa.attention_stack(x, weights, freqs, window=window, training_length=8)
    assert base.shape == (layers, n, d)
    for j in range(n):
        moved = x.copy()
        moved[j] += rng.standard_normal(d)
        out = hwfa.attention_stack(moved, weights, freqs, window=window, training_length=8)
        for layer in range(1, layers + 1):
            field = n if layer == layers else hwfa.receptive_field(window, layer)
            changed = np.any(out[layer - 1] != base[layer - 1], axis=-1)
            inside = (np.arange(n) >= j) & (np.arange(n) - field < j)
            assert np.array_equal(changed, inside), (layer, j)


def test_the_layers_are_window_rope_then_full_nope_with_logn():
    """[HWFA-STACK-1] h_1 = x + windowed RoPE attention of x; the last layer is causal NoPE attention with
    logn(training_length), both through refrope.attention."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((6, 4)), rng.standard_normal((2, 3, 4, 4))
    freqs = refrope.inv_freq("default", 4)
    out = hwfa.attention_stack(x, w, freqs, window=2, training_length=16, layout="interleaved")
    h1 = x + refrope.attention((x @ w[0, 0])[None], (x @ w[0, 1])[None], (x @ w[0, 2])[None], freqs,
                               sliding_window=2, layout="interleaved")[0]
    h2 = h1 + refrope.attention((h1 @ w[1, 0])[None], (h1 @ w[1, 1])[None], (h1 @ w[1, 2])[None], None,
                                relpos="none", query_scale=refrope.query_scale.logn(16))[0]
    assert np.array_equal(out[0], h1) and np.array_equal(out[1], h2)


@pytest.mark.parametrize("call, error, match", [
    (lambda: hwfa.receptive_field(0, 3), ValueError, "window must be >= 1"),
    (lambda: hwfa.window_for(512, 1), ValueError, "layers must be >= 2"),
    (lambda: hwfa.window_for(512, 24, 0.0), ValueError, "alpha must be > 0"),
    (lambda: hwfa.attention_stack(np.ones((3, 2)), np.ones((1, 3, 2, 3)), [1.0], window=2, training_length=4),
     ValueError, "weights must have shape"),
    (lambda: hwfa.attention_stack(np.ones(3), np.ones((1, 3, 3, 3)), [1.0], window=2, training_length=4),
     ValueError, "x must have shape"),
    (lambda: hwfa.attention_stack(np.ones((3, 2)), np.ones((1, 3, 2, 2)), [1.0], window=0, training_length=4),
     ValueError, "window must be >= 1"),
    (lambda: hwfa.attention_stack(np.ones((3, 2)), np.ones((1, 3, 2, 2)), None, window=2, training_length=4),
     TypeError, "inv_freq"),
])
def test_bad_arguments_are_rejected(call, error, match):
    """[HWFA-WINDOW-1] [HWFA-STACK-1] Bad windows, layer counts, alpha, shapes and frequencies raise, naming them."""
    with pytest.raises(error, match=match):
        call()
