"""Backend-vs-oracle conformance tests (docs/spec/conformance.md, clauses K-*; budget docs/spec/numerics.md, N-*).

The backend comes from ``--backend`` / ``REFROPE_BACKEND`` (default: refrope itself); see
:mod:`refrope.backends`. Every comparison goes through :mod:`spec_tests.conformance.assertions`.
"""
