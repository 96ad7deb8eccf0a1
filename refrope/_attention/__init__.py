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
``masks``         causal, sliding-window and key masks, per tile
``kvcache``       :class:`KVCache` and the ``decode`` method
``backward``      the vector-Jacobian product of attention
================  ====================================================================

Spec: docs/spec/attention.md, docs/spec/gradients.md.
"""
