"""Assertions shared by the sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """`response` is an ErrorMessage with this status, a correlationId and a string
    canBeRetried; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["statusCode"] == status
    assert isinstance(body["correlationId"], str) and body["correlationId"]
    assert isinstance(body["canBeRetried"], str)
    assert response.headers["content-type"].startswith("application/json")
    return body


def messages(response: httpx.Response) -> list[str]:
    """The validation messages of a 400."""
    validation = response.json().get("validation") or {}
    return [item["message"] for item in validation.get("errors") or []]
