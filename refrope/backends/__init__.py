r"""Backends: the protocol a backend declares, its loader, the oracle as a backend, and the bundled adapters.

==========================  ================================================  ===========================
short name                  module                                            what it drives
==========================  ================================================  ===========================
``refrope``                 ``refrope.backends.oracle``                    the float64 oracle itself
``torch``                   ``refrope.backends.torch_ref``                 a plain PyTorch reference
``transformers``            ``refrope.backends.transformers``              HF transformers' RoPE code
``rotary_embedding_torch``  ``refrope.backends.rotary_embedding_torch``    lucidrains' library
``ggml``                    ``refrope.backends.ggml``                      ggml's CPU ``ggml_rope_ext``
==========================  ================================================  ===========================

The protocol (``refrope.backends.protocol``) and the loader (``refrope.backends.loader``) are
re-exported here. Each adapter module defines ``make_backend(device=None)``; importing it needs its
library. Spec: docs/spec/conformance.md, docs/known_libraries.md.
"""

from .loader import BUNDLED, load_backend
from .oracle import oracle_backend
from .protocol import FEATURES, FLAGS, FUNCTIONS, Backend, feature_name, feature_values, supports, validate

__all__ = ["FUNCTIONS", "FEATURES", "FLAGS", "BUNDLED", "Backend", "load_backend", "supports", "feature_name",
           "feature_values", "validate", "oracle_backend"]
