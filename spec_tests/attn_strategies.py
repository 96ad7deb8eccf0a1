"""Hypothesis strategies and stated bounds for the attention suite (docs/spec/attention.md, relpos.md).

An :class:`AttnCase` is one call of ``refrope.attention``: small arrays (a few heads, at most a
handful of tokens), long-context positions (offsets up to 2**17), and keywords drawn over every
relative-position map, layout, mask, query scale and block size. :func:`bounds` states the
rounding bound of [A-NUM-1] for a case; :func:`expected` is the definition of [A-SCORE-1] and
[A-OUT-1] written pair by pair with :func:`refrope.rotation_matrix` and ``math``, independent of
the methods under test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import strategies as st

import refrope
from refrope import query_scale as qs
from refrope import relpos as rp
from spec_tests.bounds import EPS
from spec_tests.scheme_strategies import bias_expected, biases
from spec_tests.strategies import HypothesisChooser, frequencies, vectors

METHODS = ("auto", "direct", "two_pass", "decode")
MAP_NAMES = tuple(rp.MAPS)


@st.composite
def _registry_draw(draw, entry, reach):
    return entry.draw(HypothesisChooser(draw), reach)


def maps(name: str | None = None, reach: int = 24):
    """A relative-position map (of the given name; any of :data:`refrope.relpos.MAPS` otherwise), windows within
    ``[0, reach]`` so they matter: the registry's draw."""
    if name:
        return _registry_draw(rp.MAPS[name], reach)
    return st.one_of(*(_registry_draw(entry, reach) for entry in rp.MAPS.values()))


def query_scales():
    """None or one of :data:`refrope.query_scale.SCALES`, with lengths up to 64 so that the factors vary."""
    return st.one_of(st.none(), *(_registry_draw(entry, 64) for entry in qs.SCALES.values()))


@dataclass
class AttnCase:
    """Inputs and keywords of one attention call (``kwargs`` holds every keyword but ``method``)."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    freqs: refrope.Frequencies
    kwargs: dict = field(default_factory=dict)

    def call(self, function=None, **override):
        """``function(q, k, v, freqs, **kwargs, **override)`` (attention by default; scores and probs omit v)."""
        function = function or refrope.attention
        kwargs = {**self.kwargs, **override}
        if function is refrope.attention:
            return function(self.q, self.k, self.v, self.freqs, **kwargs)
        return function(self.q, self.k, self.freqs, **kwargs)

    def with_kwargs(self, **override) -> AttnCase:
        return replace(self, kwargs={**self.kwargs, **override})

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Query and key positions as the spec defines the defaults [A-POS-1], shape (..., n)."""
        n_q, n_k = self.q.shape[-2], self.k.shape[-2]
        pq = self.kwargs.get("positions_q")
        pk = self.kwargs.get("positions_k")
        pq = np.arange(n_k - n_q, n_k, dtype=float) if pq is None else np.asarray(pq, dtype=float)
        pk = np.arange(n_k, dtype=float) if pk is None else np.asarray(pk, dtype=float)
        return pq, pk


@st.composite
def positions_for(draw, n: int, start: float, label: str):
    """``n`` positions: ``start`` plus small (possibly unsorted, possibly real) offsets."""
    offsets = np.array(draw(st.lists(st.integers(0, 3 * n + 3), min_size=n, max_size=n), label=f"{label} offsets"))
    if draw(st.booleans(), label=f"{label} sorted"):
        offsets = np.sort(offsets)
    if draw(st.integers(0, 3), label=f"{label} real") == 0:
        return start + 0.37 * offsets
    return (start + offsets).astype(float)


@st.composite
def attention_cases(draw, *, relpos=None, layout=None, causal=None, max_n: int = 5, masks: bool = True,
                    explicit_positions=None, schemes: bool = False, offsets: bool = False):
    """An :class:`AttnCase` over every map, layout, mask, query scale, head grouping and block size; with
    ``schemes`` also a bias (:func:`biases`) and a chunk size; with ``offsets`` the rotary slice anywhere in the head
    (``rotary_offset``; else first, as the tests that slice ``[:rotary_dim]`` themselves assume)."""
    batch = draw(st.sampled_from([(), (2,)]), label="batch")
    heads_kv, group = draw(st.integers(1, 2), label="heads_kv"), draw(st.integers(1, 2), label="group")
    n_k = draw(st.integers(1, max_n), label="n_k")
    f = draw(frequencies(variant=draw(st.sampled_from(["default", "yarn", "linear", "llama3"]), label="variant"),
                         rotary_dim=2 * draw(st.integers(1, 3), label="pairs")), label="freqs")
    d = f.rotary_dim + draw(st.sampled_from([0, 1, 3]), label="pass-through dims")
    dv = draw(st.sampled_from([1, 3]), label="dv")
    kwargs = {"relpos": draw(maps(relpos) if relpos in (None,) + MAP_NAMES else st.just(relpos), label="relpos"),
              "layout": layout or draw(st.sampled_from(refrope.LAYOUTS), label="layout"),
              "causal": draw(st.booleans(), label="causal") if causal is None else causal,
              "block_size": draw(st.none() | st.integers(1, 4), label="block_size"),
              "query_scale": draw(query_scales(), label="query_scale"),
              "scale": draw(st.none() | st.floats(0.1, 2.0), label="scale")}
    if offsets:
        kwargs["rotary_offset"] = draw(st.integers(0, d - f.rotary_dim), label="rotary_offset")
    explicit = draw(st.booleans(), label="explicit positions") if explicit_positions is None else explicit_positions
    if explicit:
        n_q = draw(st.integers(1, max_n), label="n_q")
        start = draw(st.sampled_from([0, 2**17]) | st.integers(0, 2**17), label="start")
        kwargs["positions_k"] = draw(positions_for(n_k, start, "positions_k"))
        kwargs["positions_q"] = draw(positions_for(n_q, start, "positions_q"))
    else:
        n_q = draw(st.integers(1, n_k), label="n_q")
    if masks:
        kwargs["sliding_window"] = draw(st.none() | st.integers(1, 3 * max_n) | st.floats(0.5, 3.0 * max_n),
                                        label="sliding_window")
        if draw(st.booleans(), label="key_mask?"):
            kwargs["key_mask"] = np.array(draw(st.lists(st.booleans(), min_size=n_k, max_size=n_k)), dtype=bool)
    if schemes:
        kwargs["bias"] = draw(biases(heads_kv * group), label="bias")
        kwargs["chunk_size"] = draw(st.none() | st.integers(1, 2 * max_n + 2), label="chunk_size")
    q = draw(vectors(d, rows=n_q * heads_kv * group * int(np.prod(batch))), label="q")
    k = draw(vectors(d, rows=n_k * heads_kv * int(np.prod(batch))), label="k")
    v = draw(vectors(dv, rows=n_k * heads_kv * int(np.prod(batch))), label="v")
    return AttnCase(q.reshape(batch + (heads_kv * group, n_q, d)), k.reshape(batch + (heads_kv, n_k, d)),
                    v.reshape(batch + (heads_kv, n_k, dv)), f, kwargs)


@dataclass(frozen=True)
class Bounds:
    """The rounding bounds of [A-NUM-1]: logits, probabilities, outputs."""

    logits: float
    probs: float
    output: float


def row_factors(case: AttnCase) -> np.ndarray:
    """scale * query scale * softmax factor of every query, from the spec's definitions."""
    pq, _ = case.positions()
    d = case.q.shape[-1]
    base = case.kwargs.get("scale") or 1.0 / math.sqrt(d)
    scale = case.kwargs.get("query_scale")
    factor = np.full(pq.shape, base) if scale is None else base * np.asarray(scale(pq), dtype=float)
    if case.kwargs.get("mscale_all_dim"):
        factor = factor * refrope.deepseek_softmax_factor(case.freqs.params["factor"], case.kwargs["mscale_all_dim"])
    return factor


def bounds(case: AttnCase) -> Bounds:
    """[A-NUM-1] for ``case``: delta = 8 eps S (2 + d + A) and the derived probability/output bounds."""
    pq, pk = case.positions()
    f = rp.resolve(case.kwargs.get("relpos", "rope"))
    m = case.freqs.attention_factor
    norms_q = np.sqrt(np.square(case.q).sum(-1)).max()
    norms_k = np.sqrt(np.square(case.k).sum(-1)).max()
    big_s = np.abs(row_factors(case)).max() * max(1.0, m * m) * norms_q * norms_k
    w = f.inner_window if math.isfinite(f.inner_window) else 0.0
    p = max(np.abs(pq).max(), np.abs(pk).max())
    angle = case.freqs.inv_freq.max() * (2 * max(1.0, f.outer_slope) * p + 2 * w)
    delta = 8 * EPS * big_s * (2 + case.q.shape[-1] + angle)
    bias = case.kwargs.get("bias")
    if bias is not None:  # the bias's size joins S; its own rounding (Sandwich: D/2 cosines of angles up to 2P)
        size = float(np.abs(bias(np.asarray(pq)[..., :, None] - np.asarray(pk)[..., None, :])).max())
        big_s += size
        lam = float(np.max(getattr(bias, "lam", 0.0))) * getattr(bias, "dim", 0)
        delta += 8 * EPS * (big_s * (2 + case.q.shape[-1] + angle) + lam * (2 + 2 * p) + 2 * size
                            + 2 * float(np.max(getattr(bias, "r1", 0.0))))
    rounding = 16 * EPS * (case.k.shape[-2] + big_s + 1)
    vmax = max(np.abs(case.v).max(), 1e-300)
    return Bounds(delta, 2 * delta + rounding, vmax * (4 * delta + rounding))


def f_expected(relpos, r: float) -> float:
    """The map of docs/spec/relpos.md written from the formulas, odd for r < 0 (not refrope's code)."""
    a = abs(r)
    w, k = getattr(relpos, "window", None), getattr(relpos, "factor", None)
    name = type(relpos).__name__
    if name == "_NoPE":
        value = 0.0
    elif name == "_RoPE":
        value = a
    elif name == "_Linear":
        value = a / k
    elif name == "_ReRoPE":
        value = min(a, w)
    else:
        value = a if a < w else w + (a - w) / k
    return math.copysign(value, r) if r else 0.0


def visible_expected(case: AttnCase, r: float, key_ok: bool, p_q: float = 0.0, p_k: float = 0.0) -> bool:
    """[A-MASK-1] to [A-MASK-3] and [A-MASK-5] (query at ``p_q``, key at ``p_k``) written from the spec."""
    n = case.kwargs.get("sliding_window")
    causal = case.kwargs.get("causal", True)
    chunk = case.kwargs.get("chunk_size")
    ok = key_ok and (r >= 0 or not causal)
    if n is not None:
        ok = ok and (r < n if causal else abs(r) < n)
    if chunk is not None:
        ok = ok and math.floor(p_q / chunk) == math.floor(p_k / chunk)
    return ok


def expected(case: AttnCase) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, probabilities and output by the definition, pair by pair ([A-SCORE-1], [A-OUT-1])."""
    q, k, v = case.q, case.k, case.v
    batch, (heads_q, n_q, _), n_k = q.shape[:-3], q.shape[-3:], k.shape[-2]
    group = heads_q // k.shape[-3]
    pq, pk = (np.broadcast_to(p, batch + (n,)) for p, n in zip(case.positions(), (n_q, n_k)))
    mask = case.kwargs.get("key_mask")
    mask = np.broadcast_to(True if mask is None else mask, batch + (n_k,))
    factor = np.broadcast_to(row_factors(case), batch + (n_q,))
    layout = case.kwargs.get("layout", "half")
    pair_layout = "interleaved" if layout == "interleaved_to_half" else layout
    relpos = rp.resolve(case.kwargs.get("relpos", "rope"))
    dr, m = case.freqs.rotary_dim, case.freqs.attention_factor
    offset = case.kwargs.get("rotary_offset", 0)
    if type(relpos).__name__ == "_NoPE":  # [A-NOPE-1]: no rotation, no magnitude
        dr, m = 0, 1.0
    bias = case.kwargs.get("bias")
    scores = np.full(q.shape[:-1] + (n_k,), -np.inf)
    for b in np.ndindex(*batch):
        for h, i, j in np.ndindex(heads_q, n_q, n_k):
            r = pq[b][i] - pk[b][j]
            if not visible_expected(case, r, bool(mask[b][j]), pq[b][i], pk[b][j]):
                continue
            qi, kj = q[b + (h, i)], k[b + (h // group, j)]
            rotated, rot = 0.0, slice(offset, offset + dr)  # the rotary slice; the other coordinates pass through
            if dr:
                turn = refrope.rotation_matrix(-f_expected(relpos, r), case.freqs, layout=pair_layout)
                rotated = qi[rot] @ turn @ kj[rot]
            passed = np.delete(qi, np.r_[rot]) @ np.delete(kj, np.r_[rot])
            scores[b + (h, i, j)] = factor[b][i] * (passed + m * m * rotated) + bias_expected(bias, r, h)
    probs = np.zeros_like(scores)
    for idx in np.ndindex(*scores.shape[:-1]):
        row = scores[idx]
        if np.isfinite(row).any():
            top = row[np.isfinite(row)].max()
            weights = [math.exp(x - top) if math.isfinite(x) else 0.0 for x in row]
            probs[idx] = np.array(weights) / math.fsum(weights)
    out = np.einsum("...ij,...jd->...id", probs, np.repeat(v, group, axis=-3))
    return scores, probs, out


def assert_close(got, want, atol, what: str) -> None:
    """Finite entries within ``atol``; ``-inf`` exactly where expected; never NaN."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert not np.isnan(got).any(), f"{what}: NaN"
    assert np.array_equal(np.isneginf(got), np.isneginf(want)), f"{what}: masked entries differ"
    finite = np.isfinite(want)
    err = np.abs(np.where(finite, got, 0.0) - np.where(finite, want, 0.0)).max(initial=0.0)
    assert err <= atol, f"{what}: max error {err:.3g} > bound {atol:.3g}"


