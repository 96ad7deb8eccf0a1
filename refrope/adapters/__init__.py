"""Bundled backend adapters for the conformance suite (optional dependencies: torch, transformers, ...).

==========================  ================================================  ===========================
short name                  module                                            what it drives
==========================  ================================================  ===========================
``torch``                   :mod:`refrope.adapters.torch_ref`                 a plain PyTorch reference
``transformers``            :mod:`refrope.adapters.transformers`              HF transformers' RoPE code
``rotary_embedding_torch``  :mod:`refrope.adapters.rotary_embedding_torch`    lucidrains' library
==========================  ================================================  ===========================

Each module defines ``make_backend(device=None)`` (the protocol of :mod:`refrope.backend`); importing
it needs its library. Spec: docs/spec/conformance.md, docs/known_libraries.md.
"""
