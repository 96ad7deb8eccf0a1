"""Suite-wide configuration: hypothesis profiles and the report header.

Profiles (``HYPOTHESIS_PROFILE`` selects one; default ``ci`` when ``CI`` is set, else ``dev``):

* ``dev``: 25 examples per property, for a fast local loop;
* ``ci``: hypothesis' own CI profile (derandomized, no deadline, no database) with 40 examples;
* ``thorough``: 1,000 examples per property, opt-in heavy fuzzing (``HYPOTHESIS_PROFILE=thorough``).
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("ci", parent=settings.get_profile("ci"), max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    import refrope

    env = ", ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("REFROPE_"))
    return [
        f"refrope {refrope.__version__} (numpy {np.__version__}); hypothesis profile={PROFILE} "
        f"(max_examples={settings.get_profile(PROFILE).max_examples})",
        f"REFROPE_* environment: {env or '(none)'}",
    ]
