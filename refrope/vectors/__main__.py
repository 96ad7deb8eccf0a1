"""``python -m refrope.vectors export DIR`` / ``verify DIR``."""

import sys

from .cli import main

sys.exit(main())
