"""Model configurations in: reading a checkpoint's configuration into :class:`refrope.Frequencies`.

================  ====================================================================
module            what it reads
================  ====================================================================
``hf``            transformers' ``config.json`` (:func:`refrope.from_hf_config`, :func:`refrope.hf_query_scale`),
                  with ``hf_reading``, ``hf_keys``, ``hf_model_types``, ``hf_heads``, ``hf_params``, ``hf_mrope``
``gguf``          a GGUF file's ``{arch}.rope.*`` metadata and factor tensors (:func:`refrope.from_gguf`)
================  ====================================================================

Spec: docs/spec/hf_config.md, docs/spec/gguf.md.
"""
