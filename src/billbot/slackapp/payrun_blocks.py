"""Block Kit for pay runs: the company chooser, the form, the review, and the progress shown
in the pay-run modal and the pay-run message. Render only.

Slack's limits shape the form: a view holds at most 100 blocks and a checkbox group 10
options, so each currency's bills go into groups of 10 (ordered by supplier, each group
labelled with its suppliers), 100 bills a page; `services.payrun_plan` caps a run at 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billbot.codat.models import BankAccountOption
from billbot.money import format_money
from billbot.services.payrun_plan import NotOffered, supplier_of
from billbot.services.payruns import Progress
from billbot.slackapp.account_choices import option
from billbot.slackapp.blocks import Block, _mrkdwn, _plain
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.pay_form import crosses_currency
from billbot.storage.tables import PayRunItem

CALLBACK_PAYRUN_COMPANY = "payrun_company"
CALLBACK_PAYRUN_FORM = "payrun_form"
CALLBACK_PAYRUN_REVIEW = "payrun_review"
ACTION_PAYRUN_RETRY = "payrun_retry"
GROUP_SIZE = 10  # Slack: options in a checkbox group
# Bills per page of the form: a submission carries the whole view and its state, and a
# 500-option view would pass Slack's (and billbot's) request size limits.
PAGE_SIZE = 100
MAX_ACCOUNTS = 100  # Slack: options in a static select
TITLE = "Pay approved bills"


def lines_blocks(title: str, lines: Sequence[str], *, max_blocks: int = 3) -> list[Block]:
    """Lines as sections of at most ~2900 characters, `max_blocks` of them, then a count."""
    blocks: list[Block] = []
    chunk = [title]
    shown = 0
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            if len(blocks) + 1 >= max_blocks:
                break
            blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
            chunk = []
        chunk.append(line)
        shown += 1
    if shown < len(lines):
        chunk.append(f"…and {len(lines) - shown} more.")
    blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
    return blocks


def company_chooser(choices: Sequence[tuple[str, str]], *, initial: str | None,
                    metadata: str) -> Block:
    """One select of the bound companies (value: a channel bound to it)."""
    options = [{"text": _plain(label, 75), "value": value} for value, label in choices[:100]]
    element: Block = {"type": "static_select", "action_id": "company", "options": options}
    first = next((o for o in options if o["value"] == initial), None)
    if first is not None:
        element["initial_option"] = first
    return {"type": "modal", "callback_id": CALLBACK_PAYRUN_COMPANY, "private_metadata": metadata,
            "title": _plain(TITLE, 24), "submit": _plain("Next", 24),
            "close": _plain("Cancel", 24),
            "blocks": [{"type": "input", "block_id": "company",
                        "label": _plain("Pay bills of which company?", 2000),
                        "element": element}]}


def page_count(items: int) -> int:
    return max(1, -(-items // PAGE_SIZE))


def page_positions(page: int, items: int) -> range:
    return range(page * PAGE_SIZE, min(items, (page + 1) * PAGE_SIZE))


def _bill_option(item: PayRunItem) -> Block:
    choice: Block = {"text": _plain(f"{item.reference or item.bill_id} · "
                                    f"{format_money(item.amount, item.currency)}", 75),
                     "value": str(item.position)}
    if item.supplier:
        choice["description"] = _plain(item.supplier, 75)
    return choice


def _settings_blocks(currency: str, items: list[PayRunItem],
                     accounts: list[BankAccountOption], base_currency: str | None,
                     books_rate: Decimal | None) -> list[Block]:
    """A currency's summary, its account and (foreign) its rate: on the form's first page."""
    total = sum((i.amount for i in items), Decimal(0))
    blocks: list[Block] = [{"type": "section", "block_id": f"cur-{currency}", "text": _mrkdwn(
        f"*{currency}* · {len(items)} bill{'s' if len(items) != 1 else ''} · "
        f"*{format_money(total, currency)}*")}]
    # Accounts in the bills' own currency first: past Slack's 100 options, those are kept.
    offered = sorted(accounts, key=lambda a: (a.currency or "").upper() != currency)[:MAX_ACCOUNTS]
    options = [option(a) for a in offered]
    same = next((o for a, o in zip(offered, options, strict=True)
                 if (a.currency or "").upper() == currency), options[0])
    blocks.append({"type": "input", "block_id": f"account-{currency}",
                   "label": _plain(f"Pay the {currency} bills from", 2000),
                   "element": {"type": "static_select", "action_id": "account",
                               "options": options, "initial_option": same}})
    if crosses_currency(currency, base_currency):
        rate: Block = {"type": "plain_text_input", "action_id": "rate",
                       "placeholder": _plain("e.g. 0.781", 150)}
        if books_rate:
            rate["initial_value"] = f"{books_rate.normalize():f}"
        blocks.append({"type": "input", "block_id": f"rate-{currency}",
                       "label": _plain(f"Rate ({base_currency} per 1 {currency})", 2000),
                       "hint": _plain("One rate for every bill in this currency; the books' "
                                      "rate is prefilled." if books_rate else
                                      "One rate for every bill in this currency.", 2000),
                       "element": rate})
    return blocks


def _group_blocks(items: list[PayRunItem]) -> list[Block]:
    """Checkbox groups of 10, each of one currency, labelled with its suppliers."""
    blocks: list[Block] = []
    by_currency: dict[str, list[PayRunItem]] = {}
    for item in items:
        by_currency.setdefault(item.currency, []).append(item)
    for currency, listed in by_currency.items():
        for start in range(0, len(listed), GROUP_SIZE):
            group = listed[start:start + GROUP_SIZE]
            suppliers = list(dict.fromkeys(i.supplier or "?" for i in group))
            label = f"{currency} · " + ", ".join(suppliers[:4]) + (
                f" and {len(suppliers) - 4} more" if len(suppliers) > 4 else "")
            options_ = [_bill_option(i) for i in group]
            blocks.append({"type": "input", "optional": True,
                           "block_id": f"bills-{group[0].position}",
                           "label": _plain(label, 2000),
                           "element": {"type": "checkboxes", "action_id": "bills",
                                       "options": options_, "initial_options": options_}})
    return blocks


def not_offered_lines(not_offered: Sequence[NotOffered]) -> list[str]:
    return [f"• *{user_text(n.bill.reference or n.bill.id, 80)}* · "
            f"{user_text(supplier_of(n.bill), 80)}: {user_text(n.reason, 300)}"
            for n in not_offered]


@dataclass(frozen=True)
class FormPage:
    """What a page of the run's form shows (the run's items are stored in its draft)."""

    company: str
    items: Sequence[PayRunItem]  # all the run's items, in position order
    page: int
    accounts: dict[str, list[BankAccountOption]]
    books_rates: dict[str, Decimal | None]
    not_offered: Sequence[NotOffered]
    more: int
    base_currency: str | None
    today: date


def form_modal(form: FormPage, *, metadata: str) -> Block:
    """Every offered bill ticked, by currency and supplier, 100 a page (a view's payload stays
    far below Slack's limits); the first page also holds an account (and a rate for a foreign
    currency) per currency, and the one date. Positions index the run's stored bills."""
    items, pages = list(form.items), page_count(len(form.items))
    shown = [items[p] for p in page_positions(form.page, len(items))]
    blocks: list[Block] = []
    if form.page == 0:
        totals: dict[str, Decimal] = {}
        for item in items:
            totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.amount
        money = " · ".join(f"*{format_money(a, c)}*" for c, a in totals.items())
        paging = (f" They are listed {PAGE_SIZE} a page over {pages} pages." if pages > 1
                  else "")
        blocks.append({"type": "section", "block_id": "intro", "text": _mrkdwn(
            f"*{len(items)} approved bill{'s' if len(items) != 1 else ''}* of "
            f"*{user_text(form.company, 100)}* you can pay: {money}.\nAll are ticked; untick "
            f"any to leave it out.{paging} Next you review the run; nothing is recorded until "
            "you confirm.")})
        for currency in totals:
            blocks += _settings_blocks(currency, [i for i in items if i.currency == currency],
                                       form.accounts[currency], form.base_currency,
                                       form.books_rates.get(currency))
        blocks.append({"type": "input", "block_id": "date",
                       "label": _plain("Payment date", 2000),
                       "hint": _plain("One date for every payment; a bill issued after it is "
                                      "left out, with the reason.", 2000),
                       "element": {"type": "datepicker", "action_id": "date",
                                   "initial_date": form.today.isoformat()}})
    else:
        blocks.append({"type": "section", "block_id": "intro", "text": _mrkdwn(
            f"Bills {shown[0].position + 1}–{shown[-1].position + 1} of {len(items)}; untick "
            "any to leave it out.")})
    blocks += _group_blocks(shown)
    if form.page == 0 and form.more:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"{form.more} more payable bills are offered by the next pay run (a run holds at "
            f"most {len(items)}, the most urgent first).")]})
    if form.page == 0 and form.not_offered:
        blocks += lines_blocks("*Approved but not in this run:*",
                                not_offered_lines(form.not_offered), max_blocks=2)
    last = form.page + 1 >= pages
    title = TITLE if pages == 1 else f"{TITLE} {form.page + 1}/{pages}"
    return {"type": "modal", "callback_id": CALLBACK_PAYRUN_FORM, "private_metadata": metadata,
            "title": _plain(title, 24), "submit": _plain("Review" if last else "Next page", 24),
            "close": _plain("Cancel", 24), "blocks": blocks}


def progress_line(p: Progress) -> str:
    """"12 of 40 recorded, 1 failed" (and what is still pending)."""
    line = f"{p.recorded} of {p.selected} recorded"
    if p.failed:
        line += f", {p.failed} failed"
    if p.pending and p.state == "finished":
        line += f", {p.pending} not confirmed yet"
    return line


def _progress_blocks(p: Progress, *, where: str) -> list[Block]:
    done = p.state == "finished" or p.pending == 0
    icon = (":white_check_mark:" if done and not p.failed else ":warning:" if done
            else ":hourglass_flowing_sand:")
    money = " · ".join(format_money(a, c) for c, a in p.recorded_totals.items()) or "nothing yet"
    head = (f"{icon} *Pay run* by <@{p.payer_id}>: *{progress_line(p)}*\n"
            f"Recorded so far: {money}")
    if not done:
        head += "\nbillbot keeps going even if you close this; each bill's row shows its payment."
    blocks: list[Block] = [{"type": "section", "block_id": f"{where}-progress",
                            "text": _mrkdwn(head)}]
    if p.failures:
        blocks += lines_blocks("*Not recorded:*", failure_lines(p, reasons=where == "modal"),
                                max_blocks=3)
    return blocks


def failure_lines(p: Progress, *, reasons: bool) -> list[str]:
    """Each failed bill; with its reason only where just the payer sees it (Codat's words,
    as for a single payment, never go on a public message)."""
    return [f"• *{user_text(f.reference, 80)}* · {user_text(f.supplier, 80)}"
            + (f": {user_text(f.reason, 300)}" if reasons else "") for f in p.failures]


def failures_text(p: Progress) -> str:
    """The payer's private note when a run ends with failures: every bill and its reason."""
    lines = failure_lines(p, reasons=True)
    text = f"Your pay run ended with {progress_line(p)}. Not recorded:\n" + "\n".join(lines[:40])
    if len(lines) > 40:
        text += f"\n…and {len(lines) - 40} more (the pay-run modal lists them too)."
    return text[:3900] + "\nPress *Retry failed* on the pay-run message to try only these again."


def progress_modal(p: Progress) -> Block:
    blocks = _progress_blocks(p, where="modal")
    if p.failures and p.pending == 0:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            "Press *Retry failed* on the pay-run message in the channel to try only these "
            "again.")]})
    return {"type": "modal", "title": _plain("Pay run", 24), "close": _plain("Close", 24),
            "blocks": blocks}


def run_message(p: Progress) -> tuple[str, list[Block]]:
    """The pay-run message in the channel: progress, failures, and `Retry failed`."""
    blocks = _progress_blocks(p, where="run")
    if p.failures:
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"<@{p.payer_id}> was told why each was not recorded.")]})
    if p.failures and p.state == "finished":
        blocks.append({"type": "actions", "block_id": "run-actions", "elements": [
            {"type": "button", "action_id": ACTION_PAYRUN_RETRY, "value": f"{p.run_id}:{p.attempt}",
             "text": _plain("Retry failed", 75),
             "confirm": {"title": _plain("Retry the failed bills?", 100),
                         "text": _mrkdwn(f"Only the {p.failed} bill(s) not recorded are tried "
                                         "again, each checked again first."),
                         "confirm": _plain("Retry", 30), "deny": _plain("Cancel", 30)}}]})
    return f"Pay run: {progress_line(p)}", blocks


__all__ = ["ACTION_PAYRUN_RETRY", "CALLBACK_PAYRUN_COMPANY", "CALLBACK_PAYRUN_FORM",
           "CALLBACK_PAYRUN_REVIEW", "PAGE_SIZE", "TITLE", "FormPage", "company_chooser",
           "failure_lines", "failures_text", "form_modal", "lines_blocks", "not_offered_lines",
           "page_count", "page_positions", "progress_line", "progress_modal", "run_message"]
