"""A binding names the Codat API its company is used through (CODAT_API, `/bills connect`)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from billbot.services import bindings
from billbot.storage.db import session_scope

from .conftest import CONNECTION, T0

COMPANY = "11111111-2222-3333-4444-555555555555"


def test_the_default_binding_follows_codat_api_and_api_of_reads_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert bindings.api_of(session, company_id=COMPANY, connection_id=CONNECTION) == "sync"
        made = bindings.ensure_default_binding(session, channel_id="CB", company_id=COMPANY,
                                               connection_id=CONNECTION, at=T0,
                                               codat_api="async")
        assert made.codat_api == "async"
    with session_scope(engine) as session:
        assert bindings.api_of(session, company_id=COMPANY, connection_id=CONNECTION) == "async"
        # CODAT_API changed back: the configured binding follows the configuration.
        again = bindings.ensure_default_binding(session, channel_id="CB", company_id=COMPANY,
                                                connection_id=CONNECTION, at=T0)
        assert again.codat_api == "sync"
        assert bindings.get_binding(session, channel_id="CB") == again


def test_an_unknown_api_is_refused_and_nothing_is_bound(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(ValueError, match="codat_api"):
        bindings.bind(session, channel_id="CB", company_id=COMPANY, connection_id=CONNECTION,
                      actor="UX", request_id=None, at=T0, codat_api="soap")
    with session_scope(engine, read_only=True) as session:
        assert bindings.get_binding(session, channel_id="CB") is None
