"""``refrope vectors export DIR`` and ``refrope vectors verify DIR``: the command-line face of :mod:`refrope.vectors`.

:func:`register` adds the ``vectors`` command to the ``refrope`` parser; :func:`main` is
``python -m refrope.vectors``. Spec: [GV-CLI-1].
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "main"]


def _export(args: argparse.Namespace) -> int:
    from .files import export
    from .version import FORMAT_VERSION

    paths = export(args.dir)
    print(f"wrote {len(paths)} files (format version {FORMAT_VERSION}) to {args.dir}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .files import verify
    from .version import FORMAT_VERSION

    problems = verify(args.dir)
    for problem in problems:
        print(f"  {problem}")
    if problems:
        print(f"{len(problems)} file(s) differ from what refrope regenerates (format version {FORMAT_VERSION}); "
              "if the oracle's values changed on purpose, bump refrope.vectors.FORMAT_VERSION and re-export",
              file=sys.stderr)
        return 1
    print(f"every file in {args.dir} is byte-identical to the regenerated vectors (format version {FORMAT_VERSION})")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``vectors {export,verify} DIR`` to an :mod:`argparse` subparsers object; return its parser.

    >>> parser = argparse.ArgumentParser(prog="refrope")
    >>> _ = register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["vectors", "verify", "out"]).dir
    'out'
    """
    p = subparsers.add_parser("vectors", help="export or verify the golden vectors (docs/vectors)")
    sub = p.add_subparsers(dest="vectors_command", required=True)
    for name, func, text in (("export", _export, "write the golden vectors into DIR"),
                             ("verify", _verify, "regenerate the vectors and compare DIR byte for byte")):
        q = sub.add_parser(name, help=text)
        q.add_argument("dir", metavar="DIR")
        q.set_defaults(func=func)
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m refrope.vectors {export,verify} DIR``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m refrope.vectors", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("export", _export), ("verify", _verify)):
        q = sub.add_parser(name)
        q.add_argument("dir", metavar="DIR")
        q.set_defaults(func=func)
    args = parser.parse_args(argv)
    return args.func(args)
