"""Independent statements of the gradients' ingredients (not taken from refrope.gradients): relative-position
maps written from kexue.fm/archives/9708 and 9728, the pair indices of each layout, central differences."""

from __future__ import annotations

import numpy as np

import refrope


def _odd(fn):
    """Extend a map defined for r >= 0 to all r by oddness, f(r) = -f(-r)."""
    return lambda r: np.sign(r) * fn(np.abs(r))


RELPOS = {  # name -> (refrope's map, the same map written here from kexue.fm/archives/9708 and 9728)
    "rope": (lambda: "rope", lambda r: r),
    "linear": (lambda: refrope.relpos.linear(2.5), lambda r: r / 2.5),
    "rerope": (lambda: refrope.relpos.rerope(3), _odd(lambda a: np.minimum(a, 3.0))),
    "leaky_rerope": (lambda: refrope.relpos.leaky_rerope(3, 4.0),
                     _odd(lambda a: np.where(a < 3, a, 3 + (a - 3) / 4.0))),
    "inv_leaky_rerope": (lambda: refrope.relpos.inv_leaky_rerope(2, 0.5),
                         _odd(lambda a: np.where(a < 2, a, 2 + (a - 2) / 0.5))),
    "none": (lambda: "none", lambda r: 0.0 * r),  # NoPE: no rotation, and no magnitude (m = 1 below)
}


def _pair_index(d, layout):
    """First and second member of every pair. interleaved_to_half rotates GPT-J pairs and then applies the same
    permutation to q and k, which cancels in q.k: its scores are those of "interleaved"."""
    if layout == "half":
        return np.arange(d // 2), np.arange(d // 2) + d // 2
    return np.arange(0, d, 2), np.arange(1, d, 2)


def _fd_grad(fn, x, h):
    """Central differences (fn(x + h e) - fn(x - h e)) / 2h for every coordinate e of x."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (fn(up) - fn(down)) / (2 * h)
    return grad


def _problem(rng, *, batch=(1,), heads_q=2, heads_kv=1, n_q=3, n_k=4, d_rot=4, extra=1, d_v=2):
    """Random q, k, v and an output cotangent of the given shapes."""
    q = rng.standard_normal(batch + (heads_q, n_q, d_rot + extra))
    k = rng.standard_normal(batch + (heads_kv, n_k, d_rot + extra))
    v = rng.standard_normal(batch + (heads_kv, n_k, d_v))
    return q, k, v, rng.standard_normal(batch + (heads_q, n_q, d_v))
