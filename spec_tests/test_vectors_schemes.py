"""[GV-CASES-1] [GV-BUDGET-1]: the golden vectors of the schemes (biases, NoPE, chunks, xPos, dual-chunk attention):
what they cover, and that their budgets are the derived ones."""

from __future__ import annotations

import numpy as np
import pytest

import refrope
from refrope import vectors
from refrope.dual_chunk import dual_chunk_positions
from refrope.vectors import budget as vbudget


@pytest.fixture(scope="module")
def loaded(vector_dir):
    return vectors.load(vector_dir)


def test_the_scheme_vectors_cover_every_bias_role_layout_and_chunk_part(loaded):
    """[GV-CASES-1] Attention cases with every bias, NoPE and a chunk mask; xPos with both roles and every layout;
    dual-chunk cases that reach the intra, successive and inter parts, with GQA."""
    attn = [c for c in loaded if c.function == "attention"]
    assert {c.inputs["bias"][0] for c in attn if c.inputs["bias"]} == set(refrope.bias.BIASES)
    assert any(c.inputs["relpos"][0] == "none" for c in attn) and any(c.inputs["chunk_size"] for c in attn)
    xpos = [c for c in loaded if c.function == "apply_xpos"]
    assert {c.inputs["role"] for c in xpos} == {"q", "k"} and {c.inputs["layout"] for c in xpos} == set(refrope.LAYOUTS)
    dca = [c for c in loaded if c.function == "dual_chunk_attention"]
    assert any(c.inputs["q"].shape[-3] != c.inputs["k"].shape[-3] for c in dca)
    parts = set()
    for c in dca:
        n_k, n_q = c.inputs["k"].shape[-2], c.inputs["q"].shape[-2]
        chunk, local = c.inputs["chunk_size"], c.inputs["local_size"]
        p, t = np.arange(n_k - n_q, n_k)[:, None], np.arange(n_k)[None, :]
        m = dual_chunk_positions(p[:, 0], t[0], chunk_size=chunk, local_size=local)
        distance = p // (chunk - local) - t // (chunk - local)
        parts |= set(np.minimum(distance[t <= p], 2).ravel().tolist())
        assert m[t <= p].max() <= chunk
    assert parts == {0, 1, 2}


def test_scheme_cases_replay_on_the_oracle_exactly(loaded):
    """[GV-CASES-1] Each xPos and dual-chunk case, recomputed by the oracle from its loaded inputs, gives its expected
    values within 4 ulp (the files hold the oracle's float64 values)."""
    for c in loaded:
        i = c.inputs
        freqs = refrope.Frequencies(i["inv_freq"], attention_factor=i["attention_factor"])
        if c.function == "apply_xpos":
            got = refrope.apply_xpos(i["x"], i["positions"], freqs, role=i["role"], scale_base=i["scale_base"],
                                     gamma=i["gamma"], layout=i["layout"])
        elif c.function == "dual_chunk_attention":
            got = refrope.dual_chunk_attention(i["q"], i["k"], i["v"], freqs, chunk_size=i["chunk_size"],
                                               local_size=i["local_size"], layout=i["layout"], scale=i["logit_scale"])
        else:
            continue
        np.testing.assert_allclose(got, c.expected, rtol=4 * 2.0**-52, atol=4 * 2.0**-1074, err_msg=c.name)


def test_scheme_budgets_are_the_derived_ones(loaded):
    """[GV-BUDGET-1] [BIAS-NUM-1] The budget of a bias case adds the bias term to the attention budget; xPos and
    dual-chunk budgets are refrope.scheme_budgets' of the recorded inputs, positive and finite."""
    for c in loaded:
        if c.function == "attention" and c.inputs["bias"] is not None:
            plain = dict(c.inputs, bias=None)
            with_bias = vbudget.case_budget("attention", c.inputs, c.budget, angle_dtype="float32")
            without = vbudget.case_budget("attention", plain, c.budget, angle_dtype="float32")
            assert np.all(with_bias >= without) and np.any(with_bias > without), c.name
        if c.function in ("apply_xpos", "dual_chunk_attention"):
            b = vbudget.case_budget(c.function, c.inputs, c.budget, angle_dtype="float32")
            assert np.all(np.isfinite(b)) and np.all(b >= 0) and np.any(b > 0), c.name
