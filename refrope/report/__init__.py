"""The report of a ``refrope check`` run: per-test results, what they add up to, and how it is written.

================  ==========================================================================================
module            what it holds
================  ==========================================================================================
``clauses``       the clause-id pattern every test docstring and spec page uses
``ids``           a test's id as skip and xfail files write it
``failures``      a failure as plain data (clause, message, values, repro, likely cause) and its signature
``hints``         likely causes read from the shape of an error (off by one, sin sign, layout, magnitude)
``plugin``        the pytest plugin that runs where the tests run (also in xdist workers): filters, report data
``collector``     the pytest plugin of refrope's own process: one result per test, progress, the estimate
``summary``       coverage, the variant x layout x dtype grid, counts per clause, groups of identical failures
``data``          the whole report as one JSON-able dict (``report.json``, ``--format json``) and the verdict
``markdown``      the backend header and ``report.md``
``console``       the summary printed at the end of a run
``figure``        the error-against-position figure (``error_vs_position.png``)
``shrinking``     how long hypothesis may shrink failures (per failing test, in all), so a failing run ends
``shard``         ``--shard I/N``: deterministic parts of the suite by test id, one per machine
``merge``         ``refrope report merge``: one report from the shards' JUnit XML or report.json files
================  ==========================================================================================

Spec: docs/spec/conformance.md [K-REPORT-1], [K-REPORT-2], [K-REPORT-3], [K-HINT-1], [K-SHRINK-1];
docs/spec/performance.md [PERF-SHARD-1], [PERF-MERGE-1].
"""
