"""Golden vectors: the spec's cases in files, for backends that are not Python (C, C++, CUDA, Rust, Triton).

* :func:`export` writes them, :func:`verify` regenerates them and compares byte for byte
  (``refrope vectors export DIR`` / ``refrope vectors verify DIR``, or ``python -m refrope.vectors``);
* :func:`load` reads a directory back (JSON floats from hex strings, safetensors through the pure-NumPy
  reader, every hash checked, nothing unpickled) as a list of :class:`~refrope.vectors.loading.Case`;
* :mod:`~refrope.vectors.generate` and :mod:`~refrope.vectors.cases_schemes` hold the case lists,
  :mod:`~refrope.vectors.budget` the error budget.

The format is versioned by :data:`FORMAT_VERSION`: any change to a stored value, the oracle's
included, changes the version and the file names (docs/vectors/versioning.md). Spec: docs/spec/vectors.md.
"""

from __future__ import annotations

from .files import build, export, verify
from .loading import Case, load
from .version import FORMAT_VERSION

__all__ = ["FORMAT_VERSION", "Case", "build", "export", "load", "verify"]
