"""Signed requests Slack could send but the UI would not: a button with a tampered value, a
modal submitted by someone else, a form whose private_metadata was edited.

The signature is always right (these tests are about what billbot does with a body that
passes verification), so every decision must come from the server's own state.
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from billbot.sandbox.slack import payloads
from billbot.sandbox.slack.driver import BotResponse
from billbot.sandbox.slack.model import Message, View
from billbot.slack_web.block_revisions import base_block_id
from billbot.storage.tables import (
    Approval,
    AuditLog,
    ChannelBinding,
    PaymentIntent,
    RoleGrant,
)
from tests.e2e.conftest import CHANNEL, OTHER_CHANNEL, Stack

JsonDict = dict[str, Any]


def click_payload(stack: Stack, user_id: str, channel_id: str, message: Message,
                  action_id: str, value: Any, *, block_id: str = "forged") -> JsonDict:
    """A block_actions payload for a button `action_id` carrying `value`, in `message`."""
    ws = stack.workspace
    user, channel = ws.user(user_id), ws.channel(channel_id)
    assert user is not None and channel is not None
    button: JsonDict = {"type": "button", "action_id": action_id,
                        "text": {"type": "plain_text", "text": "Approve"}, "value": value}
    container = {"type": "message", "message_ts": message.ts, "channel_id": channel_id,
                 "is_ephemeral": False}
    return payloads.block_actions(
        ws, user=user, channel=channel, container=container,
        message=message.to_slack(ws.team_id, ws.app_id),
        action=payloads.button_action(block_id, button, ws.ids.ts()),
        trigger_id=ws.issue_trigger(user_id),
        response_url=ws.issue_response_url(channel_id, user_id, message_ts=message.ts),
        state_values={})


def submission_payload(stack: Stack, user_id: str, view: View,
                       values: dict[str, dict[str, JsonDict]], *,
                       private_metadata: str | None = None) -> JsonDict:
    """A view_submission of `view` (whoever opened it) by `user_id` with `values`."""
    ws = stack.workspace
    user = ws.user(user_id)
    assert user is not None
    body = view.to_slack(ws.team_id, ws.app_id, ws.bot_id)
    body["state"] = {"values": copy.deepcopy(values)}
    if private_metadata is not None:
        body["private_metadata"] = private_metadata
    return payloads.view_submission(ws, user=user, view=body,
                                    trigger_id=ws.issue_trigger(user_id))


async def post_interaction(stack: Stack, payload: JsonDict) -> BotResponse:
    return await stack.driver.post_signed(payloads.interaction_body(payload), payloads.FORM)


@dataclass(frozen=True)
class Effects:
    """What a request may have changed: counts of the rows and calls that matter."""

    approvals: int
    intents: int
    role_grants: int
    bindings: int
    audit_not_refusals: int
    codat_writes: int
    slack_public: frozenset[tuple[str, str]]  # every channel message: what people see

    def __sub__(self, other: Effects) -> tuple[int, ...]:
        """Per kind, how many changed; for Slack, messages posted or visibly edited."""
        counts = tuple(a - b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True))
        return (*counts, len(self.slack_public - other.slack_public))

    def as_tuple(self) -> tuple[int, ...]:
        return (self.approvals, self.intents, self.role_grants, self.bindings,
                self.audit_not_refusals, self.codat_writes)



async def quiet(stack: Stack, *, for_seconds: float = 0.3) -> None:
    """Wait until the bot has made no Slack call for a while (a digest's thread replies)."""
    seen, still = -1, 0.0
    while still < for_seconds:
        calls = len(stack.workspace.calls())
        still = still + 0.05 if calls == seen else 0.0
        seen = calls
        await asyncio.sleep(0.05)


def changed(after: Effects, before: Effects) -> int:
    """How many side effects happened between two snapshots (0 is the only good answer)."""
    return sum(after - before)


REFUSAL_ACTIONS = ("access.refused", "payment.refused")


def effects(stack: Stack) -> Effects:
    with Session(stack.bot.engine) as session:
        def count(model: Any, *where: Any) -> int:
            return int(session.exec(select(func.count()).select_from(model).where(*where)).one())

        db = (count(Approval), count(PaymentIntent), count(RoleGrant), count(ChannelBinding),
              count(AuditLog, col(AuditLog.action).not_in(REFUSAL_ACTIONS)))
    writes = sum(1 for r in list(stack.sandbox.requests) if r.method != "GET")
    ws = stack.workspace
    shown = [m for channel in (CHANNEL, OTHER_CHANNEL) for top in ws.messages(channel)
             for m in (top, *ws.thread(channel, top.ts))]
    # The blocks are what people see (a row re-rendered unchanged is no change; its
    # notification text may differ and is not compared, nor are the new block_ids every
    # update must carry).
    public = frozenset((m.ts, json.dumps(_unrevised(m.blocks), sort_keys=True)) for m in shown)
    return Effects(*db, writes, public)


def _unrevised(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**b, "block_id": base_block_id(b.get("block_id"))} for b in blocks]


def audit_rows(stack: Stack, *actions: str) -> list[AuditLog]:
    with Session(stack.bot.engine) as session:
        query = select(AuditLog).order_by(col(AuditLog.id))
        if actions:
            query = query.where(col(AuditLog.action).in_(actions))
        return list(session.exec(query).all())
