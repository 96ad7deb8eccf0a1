"""[RAND-SUBSET-1] [RAND-MEAN-1]: randomized and equal-mean random positions (docs/spec/schemes.md).

The statistical tests run from fixed seeds, so each run is deterministic; each is stated with its level, the
probability that a correct sampler fails it for a random seed (scipy.stats gives the reference distributions).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from refrope import positions

LEVEL = 1e-6
DRAWS = 20_000


@given(n=st.integers(1, 40), extra=st.integers(0, 200), seed=st.integers(0, 2**32 - 1))
def test_randomized_gives_distinct_sorted_integers_in_range(n, extra, seed):
    """[RAND-SUBSET-1] n distinct integers of [0, L), strictly increasing, float64; the same seed gives the same
    positions and the generator is the only randomness."""
    length = n + extra
    got = positions.randomized(n, length, rng=np.random.default_rng(seed))
    assert got.dtype == np.float64 and got.shape == (n,)
    assert np.all(got == np.round(got)) and got.min() >= 0 and got.max() < length and np.all(np.diff(got) > 0)
    assert np.array_equal(got, positions.randomized(n, length, rng=np.random.default_rng(seed)))


def test_every_subset_is_equally_likely():
    """[RAND-SUBSET-1] chi^2 test of 20 000 draws of n = 3 of L = 6 over all C(6, 3) = 20 subsets, at level 1e-6:
    a correct sampler fails it for a random seed with probability 1e-6; a sampler that favours position 0 a little
    (weight 0.2 instead of 1/6) fails it."""
    subsets = {s: i for i, s in enumerate(itertools.combinations(range(6), 3))}

    def statistic(sample) -> float:
        rng = np.random.default_rng(20240514)
        counts = np.zeros(len(subsets))
        for _ in range(DRAWS):
            counts[subsets[tuple(int(x) for x in sample(rng))]] += 1
        return float(((counts - DRAWS / 20) ** 2 / (DRAWS / 20)).sum())

    limit = stats.chi2.isf(LEVEL, df=19)
    assert statistic(lambda g: positions.randomized(3, 6, rng=g)) < limit
    weights = np.array([0.2] + [0.16] * 5)
    assert statistic(lambda g: np.sort(g.choice(6, 3, replace=False, p=weights))) > limit


def test_equal_mean_exponential_has_mean_n_and_exponential_stretch():
    """[RAND-MEAN-1] linspace(0, 1, n) * s with s ~ Exp(mean n): the positions are exactly evenly spaced from 0; a KS
    test of s/n against Exp(1) at level 1e-6 and a z-test of the mean (|mean - n| <= 5 n / sqrt(N), level 5.7e-7)
    over 20 000 draws from a fixed seed."""
    n, rng = 7, np.random.default_rng(9444)
    draws = np.array([positions.equal_mean(n, rng=rng) for _ in range(DRAWS)])
    stretch = draws[:, -1]
    assert np.array_equal(draws, np.linspace(0, 1, n)[None, :] * stretch[:, None])
    assert stats.kstest(stretch / n, stats.expon.cdf).pvalue > LEVEL
    assert abs(stretch.mean() - n) <= 5 * n / math.sqrt(DRAWS)


def test_equal_mean_beta_has_mean_n_and_the_scaled_beta_law():
    """[RAND-MEAN-1] s = M Beta(k n/M, k (1 - n/M)): bounded by M, KS test against that law at level 1e-6, z-test of
    the mean with sigma^2 = n (M - n)/(k + 1) at 5 sigma/sqrt(N) (level 5.7e-7), 20 000 draws, fixed seed."""
    n, m, kappa = 8, 64.0, 3.0
    rng = np.random.default_rng(9603)
    stretch = np.array([positions.equal_mean(n, rng=rng, distribution="beta", test_length=m,
                                             concentration=kappa)[-1] for _ in range(DRAWS)])
    a, b = kappa * n / m, kappa * (1 - n / m)
    assert stretch.min() >= 0 and stretch.max() <= m
    assert stats.kstest(stretch / m, stats.beta(a, b).cdf).pvalue > LEVEL
    sigma = math.sqrt(n * (m - n) / (kappa + 1))
    assert abs(stretch.mean() - n) <= 5 * sigma / math.sqrt(DRAWS)


def test_one_position_is_zero():
    """[RAND-MEAN-1] n = 1 gives [0.] for both distributions."""
    rng = np.random.default_rng(0)
    assert np.array_equal(positions.equal_mean(1, rng=rng), [0.0])
    assert np.array_equal(positions.equal_mean(1, rng=rng, distribution="beta", test_length=2, concentration=1),
                          [0.0])


@pytest.mark.parametrize("call, error, match", [
    (lambda g: positions.randomized(0, 5, rng=g), ValueError, "n must be >= 1"),
    (lambda g: positions.randomized(6, 5, rng=g), ValueError, "n must be <= max_length"),
    (lambda g: positions.randomized(2.0, 5, rng=g), TypeError, "n must be an integer"),
    (lambda g: positions.randomized(2, 5, rng=np.random.RandomState(0)), TypeError, "rng must be a numpy.random"),
    (lambda g: positions.randomized(2, 5, rng=0), TypeError, "rng must be a numpy.random"),
    (lambda g: positions.equal_mean(3, rng=g, distribution="poisson"), ValueError, "distribution must be one of"),
    (lambda g: positions.equal_mean(3, rng=g, test_length=9), ValueError, "test_length is for distribution='beta'"),
    (lambda g: positions.equal_mean(3, rng=g, concentration=1), ValueError, "concentration is for"),
    (lambda g: positions.equal_mean(3, rng=g, distribution="beta", test_length=9), ValueError, "needs test_length"),
    (lambda g: positions.equal_mean(3, rng=g, distribution="beta", test_length=3, concentration=1), ValueError,
     "test_length must be > 3"),
    (lambda g: positions.equal_mean(3, rng=g, distribution="beta", test_length=9, concentration=0), ValueError,
     "concentration must be > 0"),
])
def test_bad_arguments_are_rejected(call, error, match):
    """[RAND-SUBSET-1] [RAND-MEAN-1] Bad sizes, a non-Generator rng, an unknown distribution and parameters of the
    other distribution raise, naming them."""
    with pytest.raises(error, match=match):
        call(np.random.default_rng(0))
