"""The views of `/bills connect`: the form (a known company or a new one, and the platform)
and the answer that carries Codat's link URL as a button."""

from __future__ import annotations

from typing import Any

from billbot.slackapp.mrkdwn import escape

CALLBACK_CONNECT = "connect_submit"
ACTION_CONNECT_LINK = "connect_link"
TITLE = "Connect a company"
# The accounting platforms billbot supports (Codat's platformKey -> name).
PLATFORMS: dict[str, str] = {
    "gbol": "Xero", "qhyg": "QuickBooks Online", "akxx": "Oracle NetSuite",
    "knfz": "Sage Intacct", "rwuv": "Zoho Books", "fbrh": "FreeAgent",
}
NAME_MAX = 100
# The Codat Bill Pay APIs a binding may use (CODAT_API's values -> what the form says).
CODAT_APIS: dict[str, str] = {
    "sync": "Bill Pay (sync): payments recorded at once",
    "async": "Bill Pay (async): push operations, recorded when the books confirm",
}

Block = dict[str, Any]


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": text[:limit]}


def _option(label: str, value: str) -> Block:
    return {"text": _plain(label, 75), "value": value}


def connect_modal(known: list[tuple[str, str]], *, metadata: str,
                  default_api: str = "sync") -> Block:
    blocks: list[Block] = []
    if known:
        blocks.append({
            "type": "input", "block_id": "company", "optional": True,
            "label": _plain("A company billbot created or bound", 2000),
            "element": {"type": "static_select", "action_id": "company",
                        "placeholder": _plain("Choose a company", 150),
                        "options": [_option(name, cid) for cid, name in known[:100]]}})
    blocks.append({
        "type": "input", "block_id": "new_company", "optional": bool(known),
        "label": _plain("Or create a company named" if known else "New company's name", 2000),
        "element": {"type": "plain_text_input", "action_id": "name", "max_length": NAME_MAX}})
    blocks.append({
        "type": "input", "block_id": "platform", "label": _plain("Accounting platform", 2000),
        "element": {"type": "static_select", "action_id": "platform",
                    "placeholder": _plain("Choose a platform", 150),
                    "options": [_option(name, key) for key, name in PLATFORMS.items()]}})
    apis = [_option(name, key) for key, name in CODAT_APIS.items()]
    blocks.append({
        "type": "input", "block_id": "codat_api", "label": _plain("Codat API", 2000),
        "element": {"type": "radio_buttons", "action_id": "codat_api", "options": apis,
                    "initial_option": next((o for o in apis if o["value"] == default_api),
                                           apis[0])}})
    return {"type": "modal", "callback_id": CALLBACK_CONNECT, "title": _plain(TITLE, 24),
            "submit": _plain("Connect", 24), "close": _plain("Cancel", 24),
            "private_metadata": metadata, "blocks": blocks}


def link_modal(*, company: str, platform: str, link_url: str, channel_id: str) -> Block:
    text = (f"Open Codat's link page to authorise *{platform}* for *{escape(company)}*. When the "
            f"connection is Linked, billbot binds <#{channel_id}> to it and posts its first "
            "digest there.")
    return {"type": "modal", "title": _plain(TITLE, 24), "close": _plain("Done", 24),
            "blocks": [{"type": "section", "block_id": "link",
                        "text": {"type": "mrkdwn", "text": text[:3000]},
                        "accessory": {"type": "button", "action_id": ACTION_CONNECT_LINK,
                                      "text": _plain("Open link page", 75),
                                      "url": link_url[:3000]}}]}
