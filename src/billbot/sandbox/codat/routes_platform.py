"""Companies and connections (Codat's platform endpoints as the Bill Pay spec carries them)."""

from __future__ import annotations

import re
from typing import Any

from billbot.sandbox.codat.errors import ApiError, bad_request
from billbot.sandbox.codat.ledger import Json
from billbot.sandbox.codat.paging import numbered_page, parse_page_params
from billbot.sandbox.codat.pipeline import Call, Reply
from billbot.sandbox.codat.query import COMPANY_FIELDS, CONNECTION_FIELDS, FieldKind, compile_query
from billbot.sandbox.codat.rules import require_object
from billbot.sandbox.codat.seed_records import company_json, connection_json

# (D) create-company: forbidden characters are removed from the name
_NAME_FORBIDDEN = re.compile(r"[^A-Za-z0-9\s\-',&@.?!]")
_PLATFORM_KEY = re.compile(r"^[a-z]{4}$")
_TAG_NAME = re.compile(r"^.{1,27}$")


def _paged(call: Call, items: list[Json], fields: dict[str, FieldKind], resource: str,
           extra_filter: Any = None) -> Reply:
    page, size = parse_page_params(call.query.get("page"), call.query.get("pageSize"))
    query = call.query.get("query")
    if query:
        predicate = compile_query(query, fields, resource)
        items = [item for item in items if predicate(item)]
    if extra_filter is not None:
        items = [item for item in items if extra_filter(item)]
    order_by = call.query.get("orderBy")
    if order_by:
        descending = order_by.startswith("-")
        name = order_by.lstrip("-")
        if name.casefold() not in {f.casefold() for f in fields}:
            raise ApiError(400, f"Error parsing query - Could not resolve property {name} "
                                f"on {resource}")
        canonical = next(f for f in fields if f.casefold() == name.casefold())
        items = sorted(items, key=lambda item: str(item.get(canonical) or ""),
                       reverse=descending)
    extra = {k: v for k, v in call.query.items() if k in ("query", "orderBy", "tags")}
    return Reply(200, numbered_page(items, page, size, call.path, extra))


def _tags_filter(call: Call) -> Any:
    tags = call.query.get("tags")
    if not tags:
        return None
    # (D) tags support =, != and ~; each tag is a property of its own
    names = {name for company in call.state.companies.values()
             for name in (company.get("tags") or {})}
    fields = {name: FieldKind.STRING for name in names}
    predicate = compile_query(tags, fields, "Company tags")
    return lambda company: predicate(company.get("tags") or {})


def _clean_name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise bad_request("Name is required.")
    cleaned = _NAME_FORBIDDEN.sub("", raw).strip()
    if not cleaned:
        raise bad_request("Name must contain at least one allowed character.")
    return cleaned


def _tags(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > 10:
        raise bad_request("Tags must be an object of at most 10 string values.")
    for name, value in raw.items():
        if not _TAG_NAME.match(name) or not isinstance(value, str) or len(value) > 100:
            raise bad_request(f"Tag {name} is not valid.")
    return dict(raw)


# --- companies ----------------------------------------------------------------------------------


def list_companies(call: Call) -> Reply:
    state = call.state
    items = [state.company_json(company_id) for company_id in state.companies]
    return _paged(call, items, COMPANY_FIELDS, "Company", _tags_filter(call))


def get_company(call: Call) -> Reply:
    return Reply(200, call.state.company_json(call.params["companyId"]))


def create_company(call: Call) -> Reply:
    body = require_object(call.json())
    state = call.state
    company_id = state.ids.uuid()
    company = company_json(company_id, _clean_name(body.get("name")),
                           _description(body.get("description")), state.today)
    company["created"] = state.timestamp()
    company["lastSync"] = None
    company["tags"] = _tags(body.get("tags"))
    state.companies[company_id] = company
    state.connections[company_id] = {}
    return Reply(200, state.company_json(company_id))  # (D) create-company answers 200


def _description(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise bad_request("Description must be a string.")
    return raw


def replace_company(call: Call) -> Reply:
    company = call.state.company(call.params["companyId"])
    body = require_object(call.json())
    company["name"] = _clean_name(body.get("name"))
    company["description"] = _description(body.get("description"))
    company["tags"] = _tags(body.get("tags"))
    return Reply(200, call.state.company_json(company["id"]))


def update_company(call: Call) -> Reply:
    company = call.state.company(call.params["companyId"])
    body = require_object(call.json())
    if "name" in body:
        company["name"] = _clean_name(body["name"])
    if "description" in body:
        company["description"] = _description(body["description"])
    if "tags" in body:
        company["tags"] = _tags(body["tags"])
    return Reply(200, call.state.company_json(company["id"]))


def delete_company(call: Call) -> Reply:
    state = call.state
    company_id = call.params["companyId"]
    state.company(company_id)
    del state.companies[company_id]
    for connection_id in state.connections.pop(company_id, {}):
        state.ledgers.pop((company_id, connection_id), None)
    return Reply(204)


# --- connections ---------------------------------------------------------------------------------


def list_connections(call: Call) -> Reply:
    company_id = call.params["companyId"]
    call.state.company(company_id)
    items = list(call.state.connections.get(company_id, {}).values())
    return _paged(call, items, CONNECTION_FIELDS, "Connection")


def get_connection(call: Call) -> Reply:
    return Reply(200, call.state.connection(call.params["companyId"],
                                            call.params["connectionId"]))


def create_connection(call: Call) -> Reply:
    state = call.state
    company_id = call.params["companyId"]
    state.company(company_id)
    body = require_object(call.json()) if call.body.strip() else {}
    platform_key = body.get("platformKey")
    if not isinstance(platform_key, str) or not _PLATFORM_KEY.match(platform_key):
        # (A) the spec declares no 400 here; an unknown integration is "not found"
        raise ApiError(404, f"Integration {platform_key!r} not found")
    connection_id = state.ids.uuid()
    # (D) a new connection waits for the business to authorise it
    connection = connection_json(company_id, connection_id, platform_key, "PendingAuth",
                                 state.today)
    connection["created"] = state.timestamp()
    connection["lastSync"] = None
    state.connections.setdefault(company_id, {})[connection_id] = connection
    return Reply(200, connection)


def delete_connection(call: Call) -> Reply:
    state = call.state
    company_id, connection_id = call.params["companyId"], call.params["connectionId"]
    state.connection(company_id, connection_id)
    del state.connections[company_id][connection_id]
    state.ledgers.pop((company_id, connection_id), None)
    return Reply(200)


def unlink_connection(call: Call) -> Reply:
    connection = call.state.connection(call.params["companyId"], call.params["connectionId"])
    body = require_object(call.json()) if call.body.strip() else {}
    status = body.get("status", "Unlinked")
    if status not in ("PendingAuth", "Linked", "Unlinked", "Deauthorized", None):
        raise bad_request("Status must be PendingAuth, Linked, Unlinked or Deauthorized.")
    connection["status"] = status or "Unlinked"
    return Reply(200, connection)


__all__ = [
    "create_company", "create_connection", "delete_company", "delete_connection",
    "get_company", "get_connection", "list_companies", "list_connections", "replace_company",
    "unlink_connection", "update_company",
]
