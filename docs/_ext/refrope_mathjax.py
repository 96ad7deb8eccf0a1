"""Sphinx extension: serve MathJax from the built documentation itself, so math renders offline.

Sphinx loads MathJax from a CDN by default, which neither a machine without network nor CI can
reach. The PyPI package ``sphinx-mathjax-offline`` (in the ``docs`` extra) ships MathJax 3.2.2;
when it is installed, this extension points ``mathjax_path`` at ``_static/mathjax/tex-chtml.js``
and copies the MathJax files there after a successful build. Without it the build still succeeds
(the pages then need network to render math) and says so once in the build log.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

PACKAGE = "sphinx-mathjax-offline"
ENTRY = "mathjax/tex-chtml.js"
logger = logging.getLogger(__name__)


def mathjax_source() -> Path | None:
    """The folder holding MathJax's ``tex-chtml.js`` in the installed package, or None."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    return folder if (folder / "tex-chtml.js").is_file() else None


def _on_config_inited(app, config) -> None:
    if mathjax_source() is not None:
        config.mathjax_path = ENTRY
    else:
        logger.info(f"{PACKAGE} is not installed: math will load MathJax from its CDN (pip install '.[docs]')")


def _on_build_finished(app, exception) -> None:
    source = mathjax_source()
    if exception is None and source is not None and app.builder.format == "html":
        copy_asset(str(source), str(Path(app.outdir) / "_static" / "mathjax"))


def setup(app):
    app.connect("config-inited", _on_config_inited)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
