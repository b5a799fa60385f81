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


def thread_text(waiting: Sequence[tuple[Notice, str | None]], *, today: date) -> str:
    """One post in a thread naming everyone it is for: one bill in a sentence, several (all
    of one kind) a line each, with whom each one is for and a link to its row."""
    if len(waiting) == 1:
        notice, link = waiting[0]
        words = bill_words(notice.bill, today)
        if notice.kind == "escalation":
            return (f":rotating_light: Escalated to {_people(notice.recipients)}: {words}, is "
                    f"still not approved past the end of its due date." + _where(notice.bill, link))
        return (f":alarm_clock: Reminder for {_people(notice.recipients)}: {words}, is waiting "
                "for approval." + _where(notice.bill, link))
    everyone = tuple(dict.fromkeys(p for notice, _ in waiting for p in notice.recipients))
    if waiting[0][0].kind == "escalation":
        head = (f":rotating_light: Escalated to {_people(everyone)}: {len(waiting)} bills are "
                "still not approved past the end of their due date.")
        lines = [f"• {bill_words(n.bill, today)}, waits on {_people(n.waiting_on)}."
                 + _where(n.bill, link) for n, link in waiting]
    else:
        head = (f":alarm_clock: Reminder for {_people(everyone)}: {len(waiting)} bills are "
                "waiting for approval.")
        lines = [f"• {bill_words(n.bill, today)}, for {_people(n.recipients)}."
                 + _where(n.bill, link) for n, link in waiting]
    return "\n".join([head, *lines])


__all__ = ["bill_words", "direct_text", "thread_text"]
