"""Only signed, fresh requests get in, whatever the configuration; odd headers are no 500."""

from __future__ import annotations

import time

import httpx

from billbot.config import Settings
from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack import payloads
from billbot.server import MAX_BODY_BYTES, build_web_app
from tests.e2e.conftest import SIGNING_SECRET, Stack, bot_messages

BODY = "command=%2Fbills&text=digest&user_id=U0ANN&channel_id=C0FINANCE"


async def test_forged_stale_future_and_odd_signatures_get_401(stack: Stack) -> None:
    now = int(time.time())
    post = stack.driver.post_signed
    cases = {
        "signed with another secret": dict(signature=payloads.signature(
            "guess", str(now), BODY.encode())),
        "no signature": dict(signature="v0="),
        # Slack's window is 5 minutes either way; a minute beyond it, so a busy machine's
        # second or two between here and the check cannot bring a case back inside.
        "from the future": dict(timestamp=now + 360),
        "stale": dict(timestamp=now - 360),
        "timestamp not a number": dict(timestamp="soon"),
        "signature of another body": dict(signature=payloads.signature(
            SIGNING_SECRET, str(now), b"command=%2Fbills&text=help")),
    }
    for name, forged in cases.items():
        response = await post(BODY, payloads.FORM, **forged)  # type: ignore[arg-type]
        assert response.status == 401, (name, response.status, response.text)
    # The same body, correctly signed, works; a malformed but signed body is a 400, not 500.
    assert (await post(BODY, payloads.FORM)).status == 200
    assert (await post("payload=%7Bnot-json", payloads.FORM)).status == 400
    assert (await post("payload=%7Bnot-json", payloads.FORM, signature="v0=0")).status == 401
    assert (await post(b"x" * (MAX_BODY_BYTES + 1), payloads.FORM)).status == 413
    assert len(bot_messages(stack)) <= 1


def test_without_a_signing_secret_http_refuses_everything(tmp_path: object) -> None:
    """Socket Mode only (no SLACK_SIGNING_SECRET): nothing on /slack/events is accepted, not
    even a body 'signed' with an empty secret; no setting turns verification off."""
    # (No app token here either: Socket Mode would try to connect at start.)
    settings = Settings(_env_file=None, slack_bot_token="xoxb-x", codat_api_key="k",
                        database_url=f"sqlite:///{tmp_path}/db.sqlite")
    app, _ = build_web_app(settings, run_scheduler=False)
    now = str(int(time.time()))
    with serve_in_thread(app) as server, httpx.Client() as client:
        for secret in ("", "xapp-x", "xoxb-x"):
            response = client.post(server.base_url + "/slack/events", content=BODY, headers={
                "Content-Type": payloads.FORM, "X-Slack-Request-Timestamp": now,
                "X-Slack-Signature": payloads.signature(secret, now, BODY.encode())})
            assert response.status_code == 401
    assert not [name for name in Settings.model_fields
                if "verif" in name or "insecure" in name or "skip" in name]
