"""The reference attention, internal: argument checking, the three methods and the tiled one, the KV cache,
the backward pass. The public names (:func:`refrope.attention`, :func:`refrope.attention_scores`,
:func:`refrope.attention_probs`, :func:`refrope.decode_attention`, :class:`refrope.KVCache`,
:func:`refrope.attention_vjp`) are exported by :mod:`refrope`.

================  ====================================================================
module            what it holds
================  ====================================================================
``setup``         every argument checked once: a :class:`~setup.Problem` split into heads
``api``           the public functions
``strips``        the ``direct`` and ``two_pass`` methods, strip by strip
``blocks``        the ``auto`` method: tiles, masked tiles skipped, online softmax
``passes``        the two linear pieces of a relative-position map (plain RoPE and the outer piece)
``turns``         fast mode's pre-rotation of q and k with two-word angles (error independent of position)
``exact``         ``precision="exact"``: double-double logits, online softmax and quotient, one rounding
``exact_parts``   exact mode's masks and pieces on exact relative positions, q and k rotated to double-doubles
``masks``         causal, sliding-window and key masks, per tile
``kvcache``       :class:`KVCache` and the ``decode`` method
``backward``      the vector-Jacobian product of attention
================  ====================================================================

Spec: docs/spec/attention.md, docs/spec/gradients.md, docs/spec/precision.md [P-ATTN-1], [P-ATTN-2],
docs/spec/numerics.md [N-FAST-3].
"""
