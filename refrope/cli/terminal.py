"""pytest's own output of a ``refrope check`` run, sent to a log file so that the console shows refrope's.

pytest prints about 90 lines per failing property (the traceback, hypothesis' example and notes); a single bug
fails a hundred tests. ``refrope check`` prints one progress line now and then, each new kind of failure
once, and a summary; pytest's full output, tracebacks included, goes to ``DIR/pytest.log`` (or a temporary
file it names). ``--full-output`` keeps pytest's output on the console instead. Spec: [K-CLI-3].
"""

from __future__ import annotations

import pytest

__all__ = ["PytestLog"]


class PytestLog:
    """A pytest plugin that points pytest's terminal reporter (and everything that writes through it, xdist
    included) at ``path``."""

    def __init__(self, path) -> None:
        self.path = path
        self._file = None

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config) -> None:
        reporter = config.pluginmanager.getplugin("terminalreporter")
        if reporter is None:
            return
        from _pytest._io import TerminalWriter  # the writer pytest's reporter holds; no public setter exists

        self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in pytest_unconfigure
        reporter._tw = TerminalWriter(self._file)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
