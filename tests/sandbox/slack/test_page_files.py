"""The demo page's uploads: what it refuses, and a sample invoice billbot can read."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import pytest

from billbot.domain.bill_suggestions import suggest_bill
from billbot.sandbox.slack.page_files import UploadRefused, sample_invoice, upload_content

TODAY = date(2026, 12, 6)


def test_the_sample_invoice_has_a_text_layer_billbot_reads() -> None:
    name, content = upload_content({"sample": True}, TODAY)
    assert (name, content) == sample_invoice(TODAY)
    found = suggest_bill(content, "application/pdf", {})
    assert found.reference == "FAB-2001" and found.total == Decimal("1250.40")
    assert found.issue_date == TODAY and found.due_date == date(2027, 1, 5)


def test_a_picked_file_arrives_as_sent() -> None:
    body = {"name": " scan.png ", "data": base64.b64encode(b"\x89PNG...").decode()}
    assert upload_content(body, TODAY) == ("scan.png", b"\x89PNG...")


@pytest.mark.parametrize("body", [
    {"name": "notes.txt", "data": base64.b64encode(b"hi").decode()},  # not a PDF or image
    {"name": "a.pdf", "data": "not base64!"},
    {"name": "a.pdf", "data": ""},  # Slack takes no empty file
    {"name": "a.pdf"},
])
def test_the_page_refuses(body: dict[str, str]) -> None:
    with pytest.raises(UploadRefused):
        upload_content(body, TODAY)
