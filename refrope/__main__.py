"""``python -m refrope`` is the ``refrope`` command."""

import sys

from .cli import main

sys.exit(main())
