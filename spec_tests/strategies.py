"""Hypothesis strategies for the core suite: small arrays, large positions, valid variant parameters.

Every strategy draws NumPy-ready values. Variant parameters are drawn per variant by
:func:`variant_params`, always valid for the drawn ``rotary_dim``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import refrope

LAYOUTS = refrope.LAYOUTS
VARIANT_NAMES = sorted(refrope.VARIANTS)

rotary_dims = st.integers(1, 24).map(lambda n: 2 * n)
famous_thetas = st.sampled_from([10_000.0, 500_000.0, 1_000_000.0, 150_000.0])
thetas = famous_thetas | st.floats(2.0, 1e7, allow_nan=False, allow_infinity=False)
factors = st.sampled_from([1.0, 2.0, 4.0, 8.0, 32.0]) | st.floats(1.0, 64.0)
lengths = st.sampled_from([2048, 4096, 8192]) | st.integers(16, 16384)
# values whose squares would underflow are flushed to 0, so norm-based bounds stay meaningful
small_floats = st.floats(-4.0, 4.0, allow_nan=False, allow_subnormal=False, width=64).map(
    lambda v: 0.0 if abs(v) < 1e-100 else v)


def positions(max_value: int = 2**20):
    """Integer positions, long-context sized."""
    return st.integers(0, max_value)


def vectors(d: int, *, rows: int | None = None):
    """A float64 array of shape ``(rows, d)`` (or ``(d,)``) with entries in [-4, 4]."""
    shape = (d,) if rows is None else (rows, d)
    return hnp.arrays(np.float64, shape, elements=small_floats)


@st.composite
def _radices(draw, d):
    lam = sorted(draw(st.lists(st.floats(1.0, 3.0), min_size=d // 2, max_size=d // 2)), reverse=True)
    return lam


@st.composite
def _yarn(draw, d):
    fast = draw(st.sampled_from([32.0]) | st.floats(2.0, 64.0))
    slow = draw(st.sampled_from([1.0]) | st.floats(0.25, fast / 1.5))
    out = {"factor": draw(factors), "original_max_position_embeddings": draw(lengths),
           "beta_fast": fast, "beta_slow": slow, "truncate": draw(st.booleans())}
    choice = draw(st.sampled_from(["none", "mscale", "explicit"]))
    if choice == "mscale":
        out["mscale"] = draw(st.floats(0.5, 2.0))
        out["mscale_all_dim"] = draw(st.floats(0.5, 2.0))
    elif choice == "explicit":
        out["attention_factor"] = draw(st.floats(0.5, 2.0))
    return out


@st.composite
def _llama3(draw, d):
    low = draw(st.sampled_from([1.0]) | st.floats(0.25, 4.0))
    return {"factor": draw(factors), "original_max_position_embeddings": draw(lengths),
            "low_freq_factor": low, "high_freq_factor": low + draw(st.sampled_from([3.0]) | st.floats(0.25, 8.0))}


@st.composite
def _longrope(draw, d):
    n = d // 2
    ext = st.lists(st.floats(1.0, 64.0), min_size=n, max_size=n)
    length = draw(lengths)
    return {"short_factor": draw(ext), "long_factor": draw(ext), "original_max_position_embeddings": length,
            "factor": draw(factors), "seq_len": draw(st.none() | st.integers(0, 4 * length))}


@st.composite
def _dynamic(draw, d):
    length = draw(lengths)
    return {"factor": draw(factors), "original_max_position_embeddings": length,
            "seq_len": draw(st.integers(0, 8 * length))}


@st.composite
def _dynamic_yarn(draw, d):
    length = draw(lengths)
    return {"original_max_position_embeddings": length, "seq_len": draw(st.integers(0, 8 * length)),
            "max_position_embeddings": draw(st.none() | st.integers(length, 4 * length)),
            "finetuned": draw(st.booleans()), "attn_factor": draw(st.sampled_from([1.0]) | st.floats(0.5, 2.0))}


@st.composite
def _parts(draw, d):
    return {"factor": draw(factors), "original_max_position_embeddings": draw(lengths),
            "ntk_factor": draw(st.sampled_from([1.0]) | st.floats(0.0, 1.0)),
            "extrapolation_factor": draw(st.sampled_from([1.0]) | st.floats(0.0, 1.0))}


def _factor_only(d):
    return st.fixed_dictionaries({"factor": factors})


_DRAWERS = {
    "default": lambda d: st.just({}),
    "linear": _factor_only,
    "ntk_aware": _factor_only,
    "ntk_base": _factor_only,
    "ntk_fixed": _factor_only,
    "ntk_mixed": lambda d: st.fixed_dictionaries({"factor": factors, "b": st.sampled_from([0.625, 0.75])
                                                  | st.floats(0.0, 1.0)}),
    "mixed_radix": lambda d: _radices(d).map(lambda lam: {"radices": lam}),
    "dynamic_ntk": _dynamic,
    "ntk_by_parts": _parts,
    "dynamic_yarn": _dynamic_yarn,
    "yarn": _yarn,
    "llama3": _llama3,
    "longrope": _longrope,
    "proportional": lambda d: st.fixed_dictionaries({"partial_rotary_factor": st.floats(0.0, 1.0),
                                                     "factor": factors}),
}
assert set(_DRAWERS) == set(refrope.VARIANTS), "every registry variant needs a parameter strategy"


def variant_params(variant: str, rotary_dim: int):
    """Valid parameters of ``variant`` for ``rotary_dim``."""
    return _DRAWERS[variant](rotary_dim)


@st.composite
def frequencies(draw, variant: str | None = None, rotary_dim: int | None = None):
    """A :class:`refrope.Frequencies` of a drawn (or given) variant, dimension and theta."""
    name = variant or draw(st.sampled_from(VARIANT_NAMES), label="variant")
    d = rotary_dim or draw(rotary_dims, label="rotary_dim")
    theta = draw(thetas, label="theta")
    params = draw(variant_params(name, d), label="params")
    return refrope.inv_freq(name, d, theta=theta, **params)
