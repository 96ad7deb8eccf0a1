"""``refrope vectors export DIR`` and ``refrope vectors verify DIR``: the command-line face of :mod:`refrope.vectors`.

``verify`` says which file differs and where (the first differing test and value), and why, in the words
of whoever runs it: a copy damaged or edited after export (its files do not match their own index), an
incomplete copy, one exported by another refrope version, differences of platform rounding only, or a
changed oracle (the maintainers' case: bump the format version). A missing directory is exit code 2,
any difference exit code 1. ``--format json`` prints the same as JSON.
:func:`register` adds the ``vectors`` command to the ``refrope`` parser; :func:`main` is
``python -m refrope.vectors``. Spec: [GV-CLI-1], [GV-CLI-2].
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register", "main", "verify_report"]


def _export(args: argparse.Namespace) -> int:
    from .files import export
    from .version import FORMAT_VERSION

    paths = export(args.dir)
    print(f"wrote {len(paths)} files (format version {FORMAT_VERSION}, with the JSON schemas in schema/) to {args.dir}")
    return 0


def _diagnosis(directory: Path, files: dict[str, bytes], problems: list[dict]) -> tuple[str, str]:
    """``(verdict, advice)`` for a directory whose files differ from ``files``."""
    from .compare import explain
    from .diff import damaged
    from .files import file_names
    from .version import FORMAT_VERSION

    export = f"refrope vectors export {directory}"
    index = file_names()[-1]
    if all(p["problem"] == "missing" for p in problems if not p["file"].startswith("schema/")) \
            and not (directory / index).is_file():
        others = sorted(p.name for p in directory.glob("index_v*.json"))
        found = f" (it holds {', '.join(others)}: exported by another refrope version; verify it with that " \
                "version)" if others else ""
        return "other version", (f"{directory} holds no vectors of format version {FORMAT_VERSION}{found}; "
                                 f"to get this version's files: {export}")
    missing = [p["file"] for p in problems if p["problem"] == "missing"]
    if missing:
        return "incomplete", (f"{', '.join(missing)} missing from {directory}: restore them from where you got the "
                              f"copy, or write the complete set: {export}")
    broken = damaged(directory, index)
    if broken:
        return "damaged", ("your copy is damaged or was edited after export: " + "; ".join(broken)
                           + f". Restore it from where you got it, or write a fresh one: {export}")
    why = explain(directory, files)
    if why.platform_only:
        return "platform rounding", ("the inputs and cases are identical and every expected value is within the "
                                     "platform's rounding (a few ULP): your copy is intact; the differences come "
                                     "from this CPU's NumPy sin/cos/exp and BLAS")
    return "different", (f"the files are intact but hold other cases or values than this refrope "
                         f"{_version()} generates (format version {FORMAT_VERSION}): they come from another "
                         f"refrope version, or the oracle changed. Users: compare against the version that made "
                         f"them, or re-export ({export}). Maintainers: a changed oracle value must bump "
                         "refrope.vectors.FORMAT_VERSION (docs/vectors/versioning.md)")


def _version() -> str:
    from .. import __version__

    return __version__


def verify_report(directory: str | Path) -> dict:
    """What ``refrope vectors verify`` says, as data: ``ok``, ``verdict`` (``identical``, ``directory not found``,
    ``other version``, ``damaged``, ``incomplete``, ``platform rounding``, ``different``), ``files`` (each
    problem with its first difference) and ``advice``. Spec: [GV-CLI-2].

    >>> verify_report("/no/such/dir")["verdict"]
    'directory not found'
    """
    from .diff import first_difference
    from .files import build
    from .schemas import schema_files
    from .version import FORMAT_VERSION

    directory = Path(directory)
    out = {"directory": str(directory), "format_version": FORMAT_VERSION, "refrope": _version(), "ok": False,
           "verdict": "directory not found", "files": [], "advice": f"{directory} is not a directory"}
    if not directory.is_dir():
        return out
    files = build()
    expected = {**files, **(schema_files() if (directory / "schema").is_dir() else {})}
    for name, data in expected.items():
        path = directory / name
        if not path.is_file():
            out["files"].append({"file": name, "problem": "missing"})
        elif (stored := path.read_bytes()) != data:
            out["files"].append({"file": name, "problem": "differs", "bytes_on_disk": len(stored),
                                 "bytes_regenerated": len(data), "first_difference": first_difference(name, stored,
                                                                                                      data)})
    if not out["files"]:
        out.update(ok=True, verdict="identical", advice="every file is byte-identical to the regenerated vectors")
        return out
    out["verdict"], out["advice"] = _diagnosis(directory, files, out["files"])
    return out


def _verify(args: argparse.Namespace) -> int:
    report = verify_report(args.dir)
    code = 0 if report["ok"] else 2 if report["verdict"] == "directory not found" else 1
    if getattr(args, "format", "text") == "json":
        print(json.dumps(report, indent=1))
        return code
    if report["ok"]:
        print(f"every file in {args.dir} is byte-identical to the regenerated vectors "
              f"(format version {report['format_version']})")
        return 0
    if code == 2:
        print(f"refrope vectors verify: directory not found: {args.dir}", file=sys.stderr)
        return 2
    for p in report["files"]:
        print(f"  {p['file']}: {p['problem']}" + (f": {p['first_difference']}" if p.get("first_difference") else ""))
    print(f"{len(report['files'])} file(s) differ from what refrope {report['refrope']} regenerates "
          f"(format version {report['format_version']}): {report['verdict']}.\n{report['advice']}", file=sys.stderr)
    return 1


def _add(sub, name: str, func, text: str | None = None) -> None:
    q = sub.add_parser(name, help=text)
    q.add_argument("dir", metavar="DIR")
    if name == "verify":
        q.add_argument("--format", choices=("text", "json"), default="text", help="json: the verdict as JSON")
    q.set_defaults(func=func)


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``vectors {export,verify} DIR`` to an :mod:`argparse` subparsers object; return its parser.

    >>> parser = argparse.ArgumentParser(prog="refrope")
    >>> _ = register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["vectors", "verify", "out", "--format", "json"]).format
    'json'
    """
    p = subparsers.add_parser("vectors", help="export or verify the golden vectors (docs/vectors)")
    sub = p.add_subparsers(dest="vectors_command", required=True)
    _add(sub, "export", _export, "write the golden vectors and their JSON schemas into DIR")
    _add(sub, "verify", _verify, "regenerate the vectors and compare DIR byte for byte, naming the first difference")
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m refrope.vectors {export,verify} DIR``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m refrope.vectors", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add(sub, "export", _export)
    _add(sub, "verify", _verify)
    args = parser.parse_args(argv)
    return args.func(args)
