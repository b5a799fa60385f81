"""The async API's reads: data endpoints over Codat's cache (`/companies/{id}/data/...`),
data status, pull operations and refreshes (syncs), and bill attachments.

Data endpoints read the cache as of the last sync, never the books (D); attachments are
fetched from the platform when asked (A), so they read the books.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billbot.sandbox.codat.async_fields import FIELDS
from billbot.sandbox.codat.books import SYNCED_TYPES
from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.ledger import Json, StoredAttachment
from billbot.sandbox.codat.paging import numbered_page, parse_page_params
from billbot.sandbox.codat.pipeline import Call, Handler, Reply
from billbot.sandbox.codat.query import FieldKind, compile_query

# The path's data type name -> the cache's (accounts are the chart of accounts).
DATA_TYPES = {"accounts": "chartOfAccounts", "bills": "bills", "suppliers": "suppliers",
              "billPayments": "billPayments", "billCreditNotes": "billCreditNotes",
              "taxRates": "taxRates", "paymentMethods": "paymentMethods",
              "trackingCategories": "trackingCategories", "journals": "journals",
              "journalEntries": "journalEntries"}


def paged(call: Call, items: list[Json], fields: Mapping[str, FieldKind],
          resource: str) -> Reply:
    """Codat's page/pageSize paging with `query` and `orderBy` (D), as a PagingInfo page."""
    page, size = parse_page_params(call.query.get("page"), call.query.get("pageSize"))
    query = call.query.get("query")
    if query:
        predicate = compile_query(query, fields, resource)
        items = [item for item in items if predicate(item)]
    order_by = call.query.get("orderBy")
    if order_by:
        name = order_by.lstrip("-")
        known = next((f for f in fields if f.casefold() == name.casefold()), None)
        if known is None:
            raise ApiError(400, f"Error parsing query - Could not resolve property {name} "
                                f"on {resource}")
        kind = fields[known]

        def key(item: Json) -> Any:
            value: Any = item
            for part in known.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if kind is FieldKind.NUMBER:
                return (value is None, value if value is not None else 0)
            return (value is None, str(value or ""))

        items = sorted(items, key=key, reverse=order_by.startswith("-"))
    extra = {k: v for k, v in call.query.items() if k in ("query", "orderBy")}
    return Reply(200, numbered_page(items, page, size, call.path, extra))


def list_data(path_type: str, resource: str) -> Handler:
    data_type = DATA_TYPES[path_type]

    def handler(call: Call) -> Reply:
        cache = call.state.cache(call.params["companyId"])
        return paged(call, list(cache.records(data_type).values()), FIELDS[data_type],
                     resource)

    return handler


def get_data(path_type: str, param: str, resource: str) -> Handler:
    data_type = DATA_TYPES[path_type]

    def handler(call: Call) -> Reply:
        cache = call.state.cache(call.params["companyId"])
        record_id = call.params[param]
        record = cache.records(data_type).get(record_id)
        if record is None:
            raise ApiError(404, f"{resource} {record_id} not found")
        return Reply(200, record)

    return handler


def accounting_profile(call: Call) -> Reply:
    state = call.state
    cache = state.cache(call.params["companyId"])
    ledger = state.ledgers[(call.params["companyId"], cache.connection_id)]
    connection = state.connections[call.params["companyId"]][cache.connection_id]
    return Reply(200, {"companyName": ledger.company_name,
                       "companyLegalName": ledger.company_name,
                       "accountingPlatformRef": connection["integrationKey"],
                       "baseCurrency": ledger.base_currency, "addresses": [],
                       "phoneNumbers": [], "webLinks": [], "sourceUrls": {}})


# --- syncs: data status, pull operations, refreshes --------------------------------------------


def data_status(call: Call) -> Reply:
    cache = call.state.caches.get(call.params["companyId"])
    call.state.company(call.params["companyId"])
    return Reply(200, dict(cache.statuses) if cache is not None else {})


def list_pull_operations(call: Call) -> Reply:
    call.state.company(call.params["companyId"])
    cache = call.state.caches.get(call.params["companyId"])
    pulls = list(reversed(cache.pulls)) if cache is not None else []
    fields = {"id": FieldKind.STRING, "dataType": FieldKind.STRING,
              "status": FieldKind.STRING, "requested": FieldKind.DATE,
              "completed": FieldKind.DATE, "connectionId": FieldKind.STRING}
    return paged(call, pulls, fields, "PullOperation")


def get_pull_operation(call: Call) -> Reply:
    call.state.company(call.params["companyId"])
    cache = call.state.caches.get(call.params["companyId"])
    dataset_id = call.params["datasetId"]
    for pull in cache.pulls if cache is not None else []:
        if pull["id"] == dataset_id:
            return Reply(200, pull)
    raise ApiError(404, f"Dataset {dataset_id} not found")


def refresh_all(call: Call) -> Reply:
    call.state.sync_company(call.params["companyId"])
    return Reply(204)


def refresh_data_type(call: Call) -> Reply:
    data_type = call.params["dataType"]
    if data_type not in SYNCED_TYPES:
        raise ApiError(400, f"Data type {data_type} is not supported by this integration.")
    company_id = call.params["companyId"]
    wanted = call.query.get("connectionId")
    if wanted is not None and wanted != call.state.linked_connection(company_id):
        raise ApiError(404, f"Data connection {wanted} not found or not Linked")
    pulls = call.state.sync_company(company_id, (data_type,))
    return Reply(200, pulls[0])


# --- attachments (read from the platform) ----------------------------------------------------


def _stored(call: Call) -> dict[str, StoredAttachment]:
    ledger = call.state.ledger(call.params["companyId"], call.params["connectionId"])
    bill_id = call.params["billId"]
    if bill_id not in ledger.bills:
        raise ApiError(404, f"Bill {bill_id} not found")
    return ledger.attachments.get(bill_id, {})


def list_attachments(call: Call) -> Reply:
    return Reply(200, {"attachments": [a.meta for a in _stored(call).values()]})


def _attachment(call: Call) -> StoredAttachment:
    attachment_id = call.params["attachmentId"]
    stored = _stored(call).get(attachment_id)
    if stored is None:
        raise ApiError(404, f"Attachment {attachment_id} not found")
    return stored


def get_attachment(call: Call) -> Reply:
    return Reply(200, _attachment(call).meta)


def download_attachment(call: Call) -> Reply:
    return Reply(200, raw=_attachment(call).content, content_type="application/octet-stream")
