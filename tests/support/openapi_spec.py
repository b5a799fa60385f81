"""Codat's OpenAPI spec: where it is, how it is repaired before use, and readable error texts."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml
from openapi_core.validation.request.exceptions import SecurityValidationError

SPEC_ENV = "BILLBOT_CODAT_SPEC"
SPEC_RELATIVE_TO_REPO = Path("..", "shared", "reference", "codat", "bill-pay-sync.openapi.yaml")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Longest single violation text; schema errors quote the offending value, which can be a page.
MAX_MESSAGE = 400


# --------------------------------------------------------------------------- spec loading


def spec_path() -> Path:
    """The spec file: $BILLBOT_CODAT_SPEC, else <repo>/../shared/reference/codat/..."""
    override = os.environ.get(SPEC_ENV)
    return Path(override) if override else (REPO_ROOT / SPEC_RELATIVE_TO_REPO).resolve()


def make_nullable_explicit(node: Any) -> int:
    """Rewrite OpenAPI 3.0 `nullable: true` into 3.1 JSON Schema, in place; return the count.

    The spec says `openapi: 3.1.0`, where `nullable` means nothing, yet marks its nullable
    fields that way: read literally, a correct `null` would be a violation. A schema with a
    `type` gets "null" added to it (and to its `enum`, if any); one without (a `$ref`) is
    wrapped in `anyOf: [schema, {type: null}]`. Examples are data, not schemas: left alone.
    """
    count = 0
    if isinstance(node, list):
        for item in node:
            count += make_nullable_explicit(item)
        return count
    if not isinstance(node, dict):
        return 0
    for key, value in node.items():
        if key not in ("example", "examples"):
            count += make_nullable_explicit(value)
    if node.get("nullable") is not True:
        node.pop("nullable", None)
        return count
    del node["nullable"]
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        node["type"] = [*types, "null"] if "null" not in types else types
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    else:
        annotations = {k: node.pop(k) for k in ("description", "title") if k in node}
        inner = dict(node)
        node.clear()
        node.update(annotations)
        node["anyOf"] = [inner, {"type": "null"}]
    return count + 1


def make_binary_untyped(node: Any) -> int:
    """Drop `type: string` from 3.0-style `format: binary` schemas, in place; return the count.

    Another 3.0 habit in this 3.1 spec: in 3.1 a `type: string` schema does not match raw
    bytes, so every attachment upload and download would fail. 3.1 describes binary
    content by its media type alone, which is what removing the type leaves.
    """
    count = 0
    if isinstance(node, list):
        return sum(make_binary_untyped(item) for item in node)
    if not isinstance(node, dict):
        return 0
    for key, value in node.items():
        if key not in ("example", "examples"):
            count += make_binary_untyped(value)
    if node.get("format") == "binary" and node.get("type") == "string":
        del node["type"]
        count += 1
    return count


def load_spec(path: Path | None = None) -> dict[str, Any]:
    """Parse the spec and apply the repairs `CodatContract` relies on."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser is 7x faster
    with (path or spec_path()).open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)
    make_nullable_explicit(spec)
    make_binary_untyped(spec)
    return spec


# ------------------------------------------------------------------------ error formatting


class _SchemaError(Protocol):
    """The part of jsonschema's ValidationError used here (jsonschema ships no stubs)."""

    message: str
    instance: object
    absolute_path: Sequence[object]
    context: Sequence[_SchemaError]


def _json_path(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(root)"


def _short_value(value: object) -> str:
    """A value as an error message quotes it, unless it is too long to read."""
    text = repr(value)
    if len(text) <= 80:
        return text
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(map(str, list(value)[:8]))
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    return text[:77] + "..."


def _schema_error_text(error: _SchemaError) -> str:
    message = error.message
    quoted = repr(error.instance)
    if message.startswith(quoted):  # jsonschema opens with the whole value: keep it short
        message = _short_value(error.instance) + message[len(quoted):]
    text = f"{_json_path(error.absolute_path)}: {message}"
    if error.context:  # anyOf/oneOf: name the closest branch's complaint too
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        text += f" ({_json_path(deepest.absolute_path)}: {deepest.message})"
    return text


def _describe(exc: BaseException) -> list[str]:
    """Turn an openapi-core error (and its cause chain) into readable complaints.

    Schema errors become one complaint each, located by JSON path: a parameter's under
    "<in> parameter <name>", a body's under "body".
    """
    if isinstance(exc, SecurityValidationError):
        return ["no Authorization header (the spec requires auth_header on every operation)"]
    schema_errors: Sequence[_SchemaError] | None = None
    cursor: BaseException | None = exc
    while cursor is not None and schema_errors is None:
        schema_errors = getattr(cursor, "schema_errors", None)
        cursor = cursor.__cause__
    name = getattr(exc, "name", None)
    where = getattr(exc, "location", None)
    prefix = f"{where} parameter {name}: " if name and where else "body "
    if schema_errors:
        return [prefix + _schema_error_text(e) for e in schema_errors]
    cause = exc.__cause__
    detail = str(exc).removeprefix(f"{type(exc).__name__}: ")
    if cause is not None and str(cause) not in detail:
        detail += f": {cause}"
    return [detail if name is None or name in detail else prefix + detail]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."
