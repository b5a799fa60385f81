"""Codat's `X-Rate-Limit-*` headers: read on every response (errors too), kept per client
and per process, and the reserve that background work respects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billbot import metrics
from billbot.codat import CodatApiError
from billbot.codat.rate_limits import RateLimits, process_allowance, read_allowance

from .conftest import COMPANY, ClientFactory, Script, error_body, json_response

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 12, 7, tzinfo=UTC)


def headers(limit: str, remaining: str, reset: str | None = None) -> dict[str, str]:
    found = {"X-Rate-Limit-Limit": limit, "X-Rate-Limit-Remaining": remaining}
    if reset is not None:
        found["X-Rate-Limit-Reset"] = reset
    return found


@pytest.mark.parametrize("reset", [str(int(MIDNIGHT.timestamp())), "2026-12-07T00:00:00Z",
                                   "2026-12-07T00:00:00"])
def test_the_reset_is_read_as_unix_seconds_or_an_instant(reset: str) -> None:
    allowance = read_allowance(headers("2000", "1500", reset), now=NOW)
    assert allowance is not None
    assert (allowance.limit, allowance.remaining, allowance.reset_at) == (2000, 1500, MIDNIGHT)
    assert allowance.share_left == 0.75


@pytest.mark.parametrize("bad", [headers("many", "10"), headers("100", "-1"), {},
                                 {"X-Rate-Limit-Limit": "100"}])
def test_malformed_or_missing_figures_are_ignored(bad: dict[str, str]) -> None:
    assert read_allowance(bad, now=NOW) is None
    limits = RateLimits()
    limits.observe(bad, now=NOW)
    assert limits.latest is None and not limits.under_reserve(0.1, now=NOW)


def test_a_bad_reset_keeps_the_figures() -> None:
    allowance = read_allowance(headers("100", "5", "soon"), now=NOW)
    assert allowance is not None and allowance.reset_at is None


def test_the_reserve_holds_until_the_allowance_is_renewed() -> None:
    limits = RateLimits()
    limits.observe(headers("1000", "150", "2026-12-07T00:00:00Z"), now=NOW)
    assert not limits.under_reserve(0.1, now=NOW)
    limits.observe(headers("1000", "99", "2026-12-07T00:00:00Z"), now=NOW)
    assert limits.under_reserve(0.1, now=NOW)
    assert not limits.under_reserve(0.0, now=NOW)  # no reserve asked for
    assert not limits.under_reserve(0.1, now=MIDNIGHT + timedelta(seconds=1))


def test_the_allowance_is_logged_at_each_tenth(caplog: pytest.LogCaptureFixture) -> None:
    limits = RateLimits()
    caplog.set_level("INFO", logger="billbot.codat.allowance")
    for remaining in ("1000", "995", "950", "899", "850"):
        limits.observe(headers("1000", remaining), now=NOW)
    assert [r.getMessage() for r in caplog.records] == [
        "codat allowance: 1000 of 1000 requests left today",
        "codat allowance: 995 of 1000 requests left today",
        "codat allowance: 899 of 1000 requests left today"]


async def test_the_client_reads_them_on_answers_and_refusals(make_client: ClientFactory) -> None:
    script = Script(
        json_response(200, {"id": COMPANY, "name": "Acme", "platform": "", "redirect": "",
                            "created": "2026-01-01T00:00:00Z"},
                      **headers("3000", "2999", "1796601600")),
        json_response(404, error_body(404), **headers("3000", "2998", "1796601600")))
    client = make_client(script)
    await client.get_company(COMPANY)
    assert client.rate_limits.latest is not None
    assert client.rate_limits.latest.remaining == 2999
    with pytest.raises(CodatApiError):
        await client.get_company(COMPANY)
    latest = client.rate_limits.latest
    assert latest is not None and latest.remaining == 2998
    # Clones (the payment client) count against the same allowance; the process sees it too.
    assert client.with_retry(client.retry_policy).rate_limits is client.rate_limits
    assert process_allowance() == latest
    scraped = metrics.render().decode()
    assert "billbot_codat_rate_limit_remaining 2998.0" in scraped
    assert "billbot_codat_rate_limit_limit 3000.0" in scraped
