"""The text of a report: the backend header and ``report.md`` (clause x variant x dtype).

Spec: docs/spec/conformance.md [K-REPORT-1].
"""

from __future__ import annotations

from collections import defaultdict

from .collector import cell_table, summarize

__all__ = ["backend_header", "report_markdown"]


def backend_header(backend) -> list[str]:
    """The lines that describe a backend: name, source and versions, dtypes, capabilities.

    >>> from refrope.backends import oracle_backend
    >>> backend_header(oracle_backend())[1]
    'dtypes: float64; angle dtype: float64'
    """
    versions = ", ".join(f"{k} {v}" for k, v in backend.versions.items()) or "no versions declared"
    method = getattr(backend, "angle_method", "direct")
    declared = "" if method == "direct" else f"; angle method: {method} (its budget term, [N-ROPE-3])"
    return [f"backend: {backend.name} ({backend.source}; {versions})",
            f"dtypes: {', '.join(backend.dtypes)}; angle dtype: {backend.angle_dtype}{declared}",
            f"capabilities: {', '.join(sorted(backend.capabilities))}"]


def _cells_markdown(results, cells) -> list[str]:
    lines = ["", "## By clause, variant and dtype", "",
             "worst = the largest |backend - oracle| / budget seen (docs/spec/numerics.md); must be <= 1.", "",
             "| clause | variant | dtype | passed | failed | skipped | xfailed | worst |",
             "|---|---|---|---|---|---|---|---|"]
    for (clause, variant, dtype), c in cell_table(results, cells).items():
        worst = f"{c['worst']:.3g}" if "worst" in c else ""
        lines.append(f"| {clause} | {variant} | {dtype} | {c.get('passed', 0)} | {c.get('failed', 0)} | "
                     f"{c.get('skipped', 0)} | {c.get('xfailed', 0)} | {worst} |")
    return lines


def report_markdown(results, header: list[str], exit_code: int, cells=None) -> str:
    lines = ["# refrope spec report", "", *[f"- {h}" for h in header], f"- pytest exit code: {exit_code}", ""]
    counts = defaultdict(int)
    for _, outcome, _, _ in results:
        counts[outcome] += 1
    lines += ["## Totals", "", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no tests ran", ""]
    lines += ["## By clause", "", "| clause | passed | failed | skipped |", "|---|---|---|---|"]
    for clause, c in summarize(results).items():
        lines.append(f"| {clause} | {c.get('passed', 0)} | {c.get('failed', 0)} | {c.get('skipped', 0)} |")
    if cells:
        lines += _cells_markdown(results, cells)
    failed = [r for r in results if r[1] == "failed"]
    if failed:
        lines += ["", "## Failures", ""]
        lines += [f"- `{nodeid}` ({', '.join(cl) or 'no clause'})" for nodeid, _, cl, _ in failed]
    return "\n".join(lines) + "\n"
