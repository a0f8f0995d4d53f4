"""Suite-wide settings: hypothesis runs derandomized under CI so a landing is reproducible.

Every app a test builds keeps its request log in a per-session temporary directory, never
in the checkout's ``.paretoroute/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The test process starts here: the same one-time environment as the console script.
from router.process import prepare_environment  # noqa: E402

prepare_environment()


@pytest.fixture(scope="session", autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARETOROUTE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        patch.delenv("PARETOROUTE_DATABASE_URL", raising=False)
        yield
