"""Precision: the arithmetic behind ``precision="fast" | "exact"``.

================  =====================================================================================
module            what it holds
================  =====================================================================================
``eft``           error-free transformations: ``two_sum``, ``two_prod`` (Dekker, no FMA needed)
``multi``         :class:`~refrope.precision.multi.Multi`: arrays of reals as 2 or 3 float64 words
``functions``     pi, exp, log, powers, prefix products, cos/sin of small multi-word arguments
``namespaces``    ``FAST`` (float64) and ``EXACT`` (triple-double): the ``xp`` every frequency formula takes
``trig``          cos/sin of :math:`p\\,\\omega` in double-double: exact reduction in turns, a table, polynomials
``exact``         exact mode of the rotation: frequencies from their formula, cos/sin words, one rounding
``dd``            for exact attention: an error-free matrix product (Ozaki), double-double arithmetic, ``exp_dd``
================  =====================================================================================

``exact`` imports the frequency registry; the other modules import nothing of refrope outside this package.
Spec: docs/spec/precision.md, docs/spec/numerics.md [N-FAST-1], [N-FAST-2].
"""
