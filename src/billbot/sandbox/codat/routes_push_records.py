"""The async API's writes of bills, attachments, credit notes, suppliers, accounts, bank
accounts, journals and journal entries: each a push operation (see `routes_push.py`).

Each handler checks the body against the spec's schema first (a 400 when broken), then the
platform's rules on arrival (the operation is Failed when broken), and again when the
operation settles, against the books as they are then.
"""

from __future__ import annotations

from collections.abc import Callable

from billbot.sandbox.codat import rules_push as rules
from billbot.sandbox.codat.errors import ApiError, bad_request
from billbot.sandbox.codat.ledger import Json, StoredAttachment
from billbot.sandbox.codat.pipeline import Call, Reply
from billbot.sandbox.codat.routes_push import ledger_of, platform_of, start_push
from billbot.sandbox.codat.rules import (
    ACCOUNT_TYPES,
    ATTACHMENT_LIMITS,
    DEFAULT_ATTACHMENT_LIMIT,
    SUPPLIER_STATUSES,
    build_supplier,
    check_bill_updatable,
)

Applier = Callable[[], list[Json]]
ACCOUNT_STATUSES = ("Unknown", "Active", "Archived", "Pending")


def _change(kind: str, record_id: str, data_type: str) -> list[Json]:
    return [{"type": kind, "recordRef": {"id": record_id, "dataType": data_type}}]


def _force(call: Call) -> bool:
    raw = call.query.get("forceUpdate", "false").lower()
    if raw not in ("true", "false"):
        raise ApiError(400, "forceUpdate must be true or false.")
    return raw == "true"


# --- bills and their attachments --------------------------------------------------------------


def create_bill(call: Call) -> Reply:
    body = rules.bill_schema(call.json())
    state = call.state

    def build() -> Applier:
        ledger = ledger_of(call)
        bill_id = state.async_ids.uuid()
        rules.async_bill(body, ledger, bill_id=bill_id, now_text=state.timestamp())

        def apply() -> list[Json]:
            ledger.bills[bill_id] = rules.async_bill(body, ledger, bill_id=bill_id,
                                                     now_text=state.timestamp())
            return _change("Created", bill_id, "bills")

        return apply

    return start_push(call, "bills", build, body)


def update_bill(call: Call) -> Reply:
    body = rules.bill_schema(call.json())
    state, bill_id, force = call.state, call.params["billId"], _force(call)

    def build() -> Applier:
        ledger = ledger_of(call)
        rules.async_bill(body, ledger, bill_id=bill_id, now_text=state.timestamp())

        def apply() -> list[Json]:
            current = ledger.bills.get(bill_id)
            if current is None:
                raise ApiError(404, f"Bill {bill_id} not found")
            check_bill_updatable(current)
            rules.check_not_stale(current, body, force)
            ledger.bills[bill_id] = rules.async_bill(body, ledger, bill_id=bill_id,
                                                     now_text=state.timestamp())
            return _change("Modified", bill_id, "bills")

        return apply

    return start_push(call, "bills", build, body)


def delete_bill(call: Call) -> Reply:
    bill_id = call.params["billId"]

    def build() -> Applier:
        ledger = ledger_of(call)

        def apply() -> list[Json]:
            rules.delete_bill(ledger, bill_id)
            return _change("Deleted", bill_id, "bills")

        return apply

    return start_push(call, "bills", build)


def upload_attachment(call: Call) -> Reply:
    """(D) answers 200 with no body: the file is with the platform at once."""
    ledger = ledger_of(call)
    bill_id = call.params["billId"]
    if bill_id not in ledger.bills:
        raise ApiError(404, f"Bill {bill_id} not found")
    upload = call.files.get("file")
    if upload is None:
        raise bad_request("A file part named 'file' is required.")
    limit = ATTACHMENT_LIMITS.get(platform_of(call), DEFAULT_ATTACHMENT_LIMIT)
    if len(upload.content) > limit:
        raise bad_request(f"The file is larger than {limit} bytes allowed.")
    state = call.state
    now = state.timestamp()
    meta: Json = {"id": state.async_ids.uuid(), "name": upload.filename,
                  "contentType": upload.content_type or "application/octet-stream",
                  "dateCreated": now, "fileSize": len(upload.content),
                  "includeWhenSent": False, "sourceModifiedDate": now}
    ledger.attachments.setdefault(bill_id, {})[meta["id"]] = StoredAttachment(meta,
                                                                               upload.content)
    return Reply(200)


def delete_attachment(call: Call) -> Reply:
    bill_id, attachment_id = call.params["billId"], call.params["attachmentId"]

    def build() -> Applier:
        ledger = ledger_of(call)

        def apply() -> list[Json]:
            stored = ledger.attachments.get(bill_id, {})
            if stored.pop(attachment_id, None) is None:
                raise ApiError(404, f"Attachment {attachment_id} not found")
            return [{"type": "Deleted", "recordRef": {"id": bill_id, "dataType": "bills"},
                     "attachmentId": attachment_id}]

        return apply

    return start_push(call, "bills", build)


# --- bill credit notes ----------------------------------------------------------------------------


def _credit_note_body(call: Call) -> Json:
    return rules.credit_note_schema(call.json())


def create_credit_note(call: Call) -> Reply:
    body, state = _credit_note_body(call), call.state

    def build() -> Applier:
        ledger = ledger_of(call)
        note_id = state.async_ids.uuid()
        rules.build_credit_note(body, ledger, note_id=note_id, now_text=state.timestamp())

        def apply() -> list[Json]:
            ledger.credit_notes[note_id] = rules.build_credit_note(
                body, ledger, note_id=note_id, now_text=state.timestamp())
            return _change("Created", note_id, "billCreditNotes")

        return apply

    return start_push(call, "billCreditNotes", build, body)


def update_credit_note(call: Call) -> Reply:
    body, state = _credit_note_body(call), call.state
    note_id, force = call.params["billCreditNoteId"], _force(call)

    def build() -> Applier:
        ledger = ledger_of(call)
        rules.build_credit_note(body, ledger, note_id=note_id, now_text=state.timestamp())

        def apply() -> list[Json]:
            current = ledger.credit_notes.get(note_id)
            if current is None:
                raise ApiError(404, f"Bill credit note {note_id} not found")
            rules.check_credit_updatable(current)
            rules.check_not_stale(current, body, force)
            ledger.credit_notes[note_id] = rules.build_credit_note(
                body, ledger, note_id=note_id, now_text=state.timestamp())
            return _change("Modified", note_id, "billCreditNotes")

        return apply

    return start_push(call, "billCreditNotes", build, body)


# --- suppliers, accounts, bank accounts, journals, journal entries ---------------------------


def create_supplier(call: Call) -> Reply:
    return _supplier(call, None)


def update_supplier(call: Call) -> Reply:
    return _supplier(call, call.params["supplierId"])


def _supplier(call: Call, supplier_id: str | None) -> Reply:
    body = rules.schema(call.json(), ("status",), choices={"status": SUPPLIER_STATUSES},
                        status="string", supplierName="string",
                        addresses="array", defaultCurrency="string")
    state, force = call.state, _force(call) if supplier_id else False
    new_id = supplier_id or state.async_ids.uuid()

    def build() -> Applier:
        ledger, platform = ledger_of(call), platform_of(call)
        build_supplier(body, ledger, supplier_id=new_id, platform=platform,
                       now_text=state.timestamp())

        def apply() -> list[Json]:
            current = ledger.suppliers.get(new_id)
            if supplier_id is not None:
                if current is None:
                    raise ApiError(404, f"Supplier {supplier_id} not found")
                if platform == "Xero" and current["status"] == "Archived":
                    raise bad_request("Archived suppliers cannot be updated.")  # (D) Xero
                rules.check_not_stale(current, body, force)
            ledger.suppliers[new_id] = build_supplier(body, ledger, supplier_id=new_id,
                                                      platform=platform,
                                                      now_text=state.timestamp())
            return _change("Modified" if supplier_id else "Created", new_id, "suppliers")

        return apply

    return start_push(call, "suppliers", build, body)


def _simple_create(call: Call, data_type: str, make: Callable[[Json, str], Json],
                   store: Callable[[Json], None], body: Json) -> Reply:
    state = call.state

    def build() -> Applier:
        record_id = state.async_ids.uuid()
        make(body, record_id)

        def apply() -> list[Json]:
            store(make(body, record_id))
            return _change("Created", record_id, data_type)

        return apply

    return start_push(call, data_type, build, body)


def create_account(call: Call) -> Reply:
    body = rules.schema(call.json(), (), choices={"type": rules.ACCOUNT_KINDS,
                                                  "status": ACCOUNT_STATUSES},
                        name="string", nominalCode="string", type="string",
                        fullyQualifiedCategory="string", currency="string")
    ledger = ledger_of(call)
    return _simple_create(
        call, "chartOfAccounts",
        lambda b, i: rules.build_account(b, account_id=i, base=ledger.base_currency,
                                         now_text=call.state.timestamp()),
        lambda a: ledger.accounts.__setitem__(a["id"], a), body)


def create_bank_account(call: Call) -> Reply:
    body = rules.schema(call.json(), (), choices={"accountType": ACCOUNT_TYPES,
                                                  "status": ACCOUNT_STATUSES},
                        accountName="string", accountType="string",
                        accountNumber="string", currency="string", balance="number")
    ledger = ledger_of(call)
    return _simple_create(
        call, "bankAccounts",
        lambda b, i: rules.bank_account(b, account_id=i, now_text=call.state.timestamp()),
        lambda a: ledger.bank_accounts.__setitem__(a["id"], a), body)


def create_journal(call: Call) -> Reply:
    body = rules.schema(call.json(), (), choices={"status": ("Unknown", "Active", "Archived")},
                        name="string", journalCode="string", type="string")
    ledger = ledger_of(call)
    return _simple_create(
        call, "journals",
        lambda b, i: rules.build_journal(b, journal_id=i, now_text=call.state.timestamp()),
        lambda j: ledger.journals.__setitem__(j["id"], j), body)


def create_journal_entry(call: Call) -> Reply:
    body = rules.schema(call.json(), (), postedOn="string", journalLines="array",
                        journalRef="object", description="string")
    rules.journal_lines_schema(body)
    ledger = ledger_of(call)
    return _simple_create(
        call, "journalEntries",
        lambda b, i: rules.build_journal_entry(b, ledger, entry_id=i,
                                               now_text=call.state.timestamp()),
        lambda e: ledger.journal_entries.__setitem__(e["id"], e), body)
