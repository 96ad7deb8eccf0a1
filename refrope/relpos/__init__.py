r"""Relative-position maps :math:`f`: the position attention sees between query :math:`i` and key :math:`j`.

Attention with a map :math:`f` scores query :math:`i` against key :math:`j` as
:math:`q_i^\top \mathcal{R}(-f(p_i - p_j))\,k_j` (docs/spec/attention.md). For plain RoPE
:math:`f(r) = r`; the maps below rescale or clip :math:`r`:

=====================================  ==========================================================  =====================
map                                    :math:`f(r)` for :math:`r \ge 0`                            source
=====================================  ==========================================================  =====================
``rope()``                             :math:`r`                                                   RoFormer; 8265
``linear(factor)``                     :math:`r / k`                                               PI; 9708
``rerope(window)``                     :math:`\min(r, w)`                                          9708; rerope_patch.py
``leaky_rerope(window, factor)``       :math:`r` if :math:`r < w`, else :math:`w + (r - w)/k`,     9708; leaky_rerope
                                       :math:`k \ge 1`
``inv_leaky_rerope(window, factor)``   the same with :math:`0 < k < 1` (training side)             9728
``none()``                             :math:`0`: no rotation and no magnitude (NoPE)              NoPE; Llama 4
=====================================  ==========================================================  =====================

For :math:`r < 0` (only reached with ``causal=False``) every map is extended as an odd function,
:math:`f(r) = -f(-r)`. Every map is an immutable, comparable object, callable on float arrays.

Each map is also two linear pieces, which is what the two-pass computation uses: :math:`f(r) = r`
for :math:`|r| <` :attr:`RelPos.inner_window` (pass 1, plain RoPE), and outside it
:math:`f(r) = \pm w + s\,(r \mp w)` with slope :math:`s` = :attr:`RelPos.outer_slope` (pass 2).

Spec: docs/spec/relpos.md, clauses [L-MAP-1] to [L-MAP-7], [L-MATRIX-1], [L-PASS-1].

The maps are in :mod:`refrope.relpos.maps`; their registry :data:`MAPS`, :func:`resolve` and
:func:`relative_positions` in :mod:`refrope.relpos.registry`.
"""

from .maps import RelPos, inv_leaky_rerope, leaky_rerope, linear, none, rerope, rope
from .registry import MAPS, MapEntry, relative_positions, resolve

__all__ = ["RelPos", "MAPS", "MapEntry", "rope", "linear", "rerope", "leaky_rerope", "inv_leaky_rerope",
           "none", "relative_positions", "resolve"]
