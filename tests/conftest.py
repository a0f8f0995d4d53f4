"""Suite-wide settings: hypothesis runs derandomized under CI so a landing is reproducible."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The test process starts here: the same one-time environment as the console script.
from router.process import prepare_environment  # noqa: E402

prepare_environment()
