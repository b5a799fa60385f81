"""A tiny Bolt AsyncApp, served the way billbot serves it (Starlette + AsyncSlackRequestHandler),
whose listeners ack and call the Web API: enough to prove the stand-in and driver speak
Slack to the real slack_bolt and slack_sdk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAY_LIMIT = Decimal("100")


def bill_row(bill: str, label: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "block_id": f"row-{bill}",
         "text": {"type": "mrkdwn", "text": f"*{bill}* {label}"}},
        {"type": "actions", "block_id": f"act-{bill}", "elements": [
            {"type": "button", "action_id": "approve", "value": bill, "style": "primary",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "pay", "value": bill,
             "text": {"type": "plain_text", "text": "Pay"}},
            {"type": "button", "action_id": "replace", "value": bill,
             "text": {"type": "plain_text", "text": "Replace"}},
        ]},
    ]


def pay_modal(bill: str, channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": "pay_modal", "notify_on_close": True,
        "private_metadata": f"{channel}|{ts}|{bill}",
        "title": {"type": "plain_text", "text": f"Pay {bill}"},
        "submit": {"type": "plain_text", "text": "Pay"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "account",
             "label": {"type": "plain_text", "text": "Account"},
             "element": {"type": "static_select", "action_id": "choice", "options": [
                 {"text": {"type": "plain_text", "text": "Operating GBP"}, "value": "acc-1"},
                 {"text": {"type": "plain_text", "text": "Savings GBP"}, "value": "acc-2"}]}},
            {"type": "input", "block_id": "amount",
             "label": {"type": "plain_text", "text": "Amount"},
             "element": {"type": "number_input", "action_id": "value",
                         "is_decimal_allowed": True, "initial_value": "80.00",
                         "min_value": "0.01"}},
            {"type": "input", "block_id": "date",
             "label": {"type": "plain_text", "text": "Payment date"},
             "element": {"type": "datepicker", "action_id": "value",
                         "initial_date": "2026-11-22"}},
        ],
    }


def build_bolt_app(api_url: str, token: str, signing_secret: str) -> Starlette:
    app = AsyncApp(client=AsyncWebClient(token=token, base_url=api_url),
                   signing_secret=signing_secret, process_before_response=True)

    @app.command("/bills")
    async def bills(ack: Any, command: dict[str, Any], client: AsyncWebClient,
                    respond: Any) -> None:
        text, channel = command["text"], command["channel_id"]
        if text == "hello":
            await ack(f"Hello <@{command['user_id']}>")
        elif text == "announce":
            await ack(text="Announcement", response_type="in_channel")
        elif text == "later":
            await ack()
            await respond("Later, via response_url")
        else:  # "digest": a message, a bill row in its thread
            await ack()
            posted = await client.chat_postMessage(
                channel=channel, text="2 bills due",
                blocks=bill_row("BILL-1", "Acme GBP 50.00") + bill_row("BILL-2", "Beta GBP 70.00"))
            await client.chat_postMessage(channel=channel, thread_ts=posted["ts"],
                                          text="more", blocks=bill_row("BILL-3", "Gamma GBP 90.00"))

    @app.action("approve")
    async def approve(ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
        await ack()
        blocks = [b if b["block_id"] != action["block_id"] else
                  {"type": "context", "block_id": f"ok-{action['value']}",
                   "elements": [{"type": "mrkdwn",
                                 "text": f"Approved by <@{body['user']['id']}>"}]}
                  for b in body["message"]["blocks"]]
        await client.chat_update(channel=body["channel"]["id"],
                                 ts=body["container"]["message_ts"],
                                 text=body["message"]["text"], blocks=blocks)

    @app.action("pay")
    async def pay(ack: Any, body: dict[str, Any], action: dict[str, Any],
                  client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=pay_modal(
            action["value"], body["channel"]["id"], body["container"]["message_ts"]))

    @app.action("replace")
    async def replace(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="Replaced through the response_url", replace_original=True)

    @app.view("pay_modal")
    async def submitted(ack: Any, view: dict[str, Any], body: dict[str, Any],
                        client: AsyncWebClient) -> None:
        values = view["state"]["values"]
        amount = Decimal(values["amount"]["value"]["value"])
        if amount > PAY_LIMIT:
            await ack(response_action="errors", errors={"amount": f"At most {PAY_LIMIT}"})
            return
        await ack()
        channel, _, bill = view["private_metadata"].split("|")
        account = values["account"]["choice"]["selected_option"]["value"]
        await client.chat_postMessage(
            channel=channel, text=f"{bill} paid {amount} from {account} on "
                                  f"{values['date']['value']['selected_date']} "
                                  f"by <@{body['user']['id']}>")

    @app.view_closed("pay_modal")
    async def closed(ack: Any, body: dict[str, Any], view: dict[str, Any],
                     client: AsyncWebClient) -> None:
        await ack()
        channel, _, bill = view["private_metadata"].split("|")
        cleared = " (every modal)" if body["is_cleared"] else ""
        await client.chat_postMessage(channel=channel, text=f"{bill} payment cancelled{cleared}")

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
