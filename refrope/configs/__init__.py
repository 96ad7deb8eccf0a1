"""Model configurations in: reading a checkpoint's configuration into :class:`refrope.Frequencies`.

================  ====================================================================
module            what it reads
================  ====================================================================
``hf``            transformers' ``config.json`` (:func:`refrope.from_hf_config`)
================  ====================================================================

Spec: docs/spec/hf_config.md.
"""
