"""The page's file and message-shortcut actions: a person attaches a file to a message, then
runs one of the app's message shortcuts on it (as Slack's "More actions" menu does).

    POST /_ui/upload    {"user", "channel", "name", "data": base64, "text"}, or
                        {"user", "channel", "sample": true}: a generated invoice PDF
    POST /_ui/shortcut  {"user", "channel", "ts", "callback_id"}

The upload goes through the stand-in's own file path (stored, completed, shared: what
SlackDriver.post_file does in tests); the shortcut reaches the app as a signed message_action.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, timedelta

from billbot.sandbox.codat.invoice_files import invoice_pdf
from billbot.sandbox.slack.driver import SlackDriver
from billbot.sandbox.slack.model import JsonDict

# Slack's client caps uploads at 1 GB; the page keeps a demo to something a browser sends
# as JSON without strain.
MAX_PAGE_UPLOAD = 10 * 1024 * 1024
ALLOWED_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp")


class UploadRefused(ValueError):
    """Why the page will not post this file."""


def sample_invoice(today: date) -> tuple[str, bytes]:
    """A supplier's invoice with a text layer, so Create bill has something to suggest from."""
    issued, due = today, today + timedelta(days=30)
    lines = ["From: Fabrikam Fresh Ltd", "Invoice number: FAB-2001",
             f"Invoice date: {issued.isoformat()}", f"Due date: {due.isoformat()}", "",
             "Widgets, 24 boxes                      GBP 1,042.00",
             "VAT 20%                                GBP 208.40",
             "Amount due: GBP 1,250.40"]
    return "fabrikam-FAB-2001.pdf", invoice_pdf("Invoice FAB-2001", lines)


def upload_content(body: JsonDict, today: date) -> tuple[str, bytes]:
    """The file's name and bytes from an upload request body."""
    if body.get("sample") is True:
        return sample_invoice(today)
    name, data = body.get("name"), body.get("data")
    if not isinstance(name, str) or not name.strip() or not isinstance(data, str):
        raise UploadRefused("name and data (base64) are required")
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise UploadRefused("attach a PDF or an image (png, jpg, gif, webp)")
    if len(data) > MAX_PAGE_UPLOAD * 4 // 3 + 4:
        raise UploadRefused("the file is too large for the demo page (10 MB at most)")
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused("data is not base64") from None
    if not content:
        raise UploadRefused("the file is empty")
    return name.strip(), content


def post_upload(driver: SlackDriver, body: JsonDict, user: str, channel: str,
                today: date) -> JsonDict:
    """Post the file as `user`'s message in `channel`; the message's ts and file id."""
    name, content = upload_content(body, today)
    text = body.get("text")
    message = driver.post_file(user, channel, name, content,
                               text=text if isinstance(text, str) else "")
    return {"ok": True, "ts": message.ts, "files": list(message.files)}
