"""The report of a ``refrope check`` run: per-test outcomes and clauses, the markdown report, the figure.

================  ===================================================================
module            what it holds
================  ===================================================================
``clauses``       the clause-id pattern every test docstring and spec page uses
``collector``     the pytest plugin that records each test's outcome, clauses and cell
``markdown``      the backend header and ``report.md``
``figure``        the error-against-position figure (``error_vs_position.png``)
================  ===================================================================

Spec: docs/spec/conformance.md [K-REPORT-1].
"""
