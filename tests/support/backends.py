"""Run a test module's flows through both Codat Bill Pay APIs: `codat_api =
backends.codat_api` in the module overrides the e2e conftest's fixture, so `stack` binds the
channel with CODAT_API=sync, then async."""

from __future__ import annotations

import pytest

APIS = ("sync", "async")


@pytest.fixture(params=APIS)
def codat_api(request: pytest.FixtureRequest) -> str:
    return str(request.param)
