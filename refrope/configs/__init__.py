"""Model configurations in: reading a checkpoint's configuration into :class:`refrope.Frequencies`.

================  ====================================================================
module            what it reads
================  ====================================================================
``hf``            transformers' ``config.json`` (:func:`refrope.from_hf_config`)
``gguf``          a GGUF file's ``{arch}.rope.*`` metadata and factor tensors (:func:`refrope.from_gguf`)
================  ====================================================================

Spec: docs/spec/hf_config.md, docs/spec/gguf.md.
"""
