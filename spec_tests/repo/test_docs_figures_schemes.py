"""[M-DOCS-4] The data behind the schemes' figures (docs/_ext/figures_schemes.py) is what the pages say it is."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from spec_tests.paths import REPO_ROOT

EXT = None if REPO_ROOT is None else REPO_ROOT / "docs" / "_ext"
pytestmark = pytest.mark.skipif(EXT is None or not (EXT / "figures_schemes.py").is_file(),
                                reason="the docs sources are not in this installation")


@pytest.fixture(scope="module")
def figures():
    sys.path.insert(0, str(EXT))
    try:
        import figures_schemes
    finally:
        sys.path.remove(str(EXT))
    return figures_schemes


def test_bias_curves_start_at_zero_and_alibi_has_eight_slopes(figures):
    """[M-DOCS-4] Every curve is 0 at distance 0 and never positive; ALiBi's panel has the 8 slopes 2^-1 .. 2^-8."""
    curves = figures.bias_curves()
    for _, panel in curves.values():
        for values in panel.values():
            assert values[0] == 0 and np.all(values <= 0)
    r, alibi = next(iter(curves.values()))
    assert [float(-v[1] / r[1]) for v in alibi.values()] == [2.0**-k for k in range(1, 9)]


def test_masks_and_dca_matrix_are_the_pages(figures):
    """[M-DOCS-4] The window keeps N keys, the chunks C, HWFA's field (w - 1) L + 1; the DCA panel stays within
    chunk_size and equals p - t below it."""
    masks = list(figures.local_masks(n=24, window=4, chunk=6, layers=3).values())
    assert masks[0].sum(axis=1).max() == 4 and masks[1].sum(axis=1).max() == 6 and masks[2].sum(axis=1).max() == 10
    rope, dca = figures.dca_matrices().values()
    causal = np.tril(np.ones_like(rope, dtype=bool))
    assert dca[causal].max() == figures.DCA_CHUNK
    head = figures.DCA_CHUNK
    assert np.array_equal(dca[:head, :head][causal[:head, :head]], rope[:head, :head][causal[:head, :head]])
