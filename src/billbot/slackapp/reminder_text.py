"""The words of a reminder or escalation (render only): the bill as people know it, a link to
its row, and who it waits on. Supplier names and references are untrusted and made inert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from billbot.codat.models import Bill
from billbot.domain.digest import due_in_words
from billbot.money import format_money
from billbot.services.reminders import Notice
from billbot.slackapp.mrkdwn import user_text


def bill_words(bill: Bill, today: date) -> str:
    reference = user_text(bill.reference or bill.id, 60)
    supplier = user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, 80)
    amount = (format_money(bill.amount_due, bill.currency) if bill.amount_due is not None
              else "amount unknown")
    return f"*{reference}* from {supplier}, {amount}, {due_in_words(bill.due_date, today)}"


def _where(bill: Bill, link: str | None) -> str:
    if link:
        return f" <{link}|Open its row>"
    return f" `/bills show {user_text(bill.reference or bill.id, 60)}` shows it."


def _people(ids: tuple[str, ...]) -> str:
    return ", ".join(f"<@{p}>" for p in ids) or "nobody"


def direct_text(notice: Notice, person: str, *, today: date, link: str | None) -> str:
    """The DM to one person."""
    words = bill_words(notice.bill, today)
    if notice.kind == "escalation":
        return (f":rotating_light: Escalation: {words}, is still not approved past the end of "
                f"its due date. It waits on {_people(notice.waiting_on)}." + _where(notice.bill, link))
    covering = notice.covering.get(person)
    behalf = f" (you cover for <@{covering}>)" if covering else ""
    return (f":alarm_clock: Reminder: {words}, is waiting for your approval{behalf}."
            + _where(notice.bill, link))


def thread_text(notices: Sequence[Notice], *, today: date) -> str:
    """One post in the bills' thread (the row is right there: no link), naming everyone it
    is for: one bill in a sentence, several (all of one kind) a line each, with whom each
    one is for."""
    if len(notices) == 1:
        notice = notices[0]
        words = bill_words(notice.bill, today)
        if notice.kind == "escalation":
            return (f":rotating_light: Escalated to {_people(notice.recipients)}: {words}, is "
                    "still not approved past the end of its due date.")
        return (f":alarm_clock: Reminder for {_people(notice.recipients)}: {words}, is waiting "
                "for approval.")
    everyone = tuple(dict.fromkeys(p for notice in notices for p in notice.recipients))
    if notices[0].kind == "escalation":
        head = (f":rotating_light: Escalated to {_people(everyone)}: {len(notices)} bills are "
                "still not approved past the end of their due date.")
        lines = [f"• {bill_words(n.bill, today)}, waits on {_people(n.waiting_on)}."
                 for n in notices]
    else:
        head = (f":alarm_clock: Reminder for {_people(everyone)}: {len(notices)} bills are "
                "waiting for approval.")
        lines = [f"• {bill_words(n.bill, today)}, for {_people(n.recipients)}."
                 for n in notices]
    return "\n".join([head, *lines])


__all__ = ["bill_words", "direct_text", "thread_text"]
