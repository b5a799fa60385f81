"""Codat's query language (`using-the-api/querying.md`), compiled to a predicate on a record.

    expr   := term ('||' term)*
    term   := factor ('&&' factor)*
    factor := '{' expr '}' | prop op value
    op     := '=' | '!=' | '~' | '>' | '<' | '>=' | '<='

(D) `=`/`!=` on numbers, strings and dates; `~` (contains) on strings only; the ordering
operators on numbers and dates only; dotted sub-properties; arrays and nulls cannot be
queried; queries are under 2048 characters.
(A) Values are unquoted and run to the next `&&`, `||` or `}`; string comparisons and
property names are case-insensitive (the docs' own example is `status != paid`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from billbot.sandbox.codat.errors import ApiError

MAX_QUERY_LENGTH = 2048


class FieldKind(Enum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"


Predicate = Callable[[Mapping[str, Any]], bool]

BILL_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "reference": FieldKind.STRING,
    "supplierRef.id": FieldKind.STRING,
    "supplierRef.supplierName": FieldKind.STRING,
    "issueDate": FieldKind.DATE,
    "dueDate": FieldKind.DATE,
    "currency": FieldKind.STRING,
    "currencyRate": FieldKind.NUMBER,
    "status": FieldKind.STRING,
    "totalAmount": FieldKind.NUMBER,
    "amountDue": FieldKind.NUMBER,
    "sourceModifiedDate": FieldKind.DATE,
}
SUPPLIER_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "supplierName": FieldKind.STRING,
    "contactName": FieldKind.STRING,
    "emailAddress": FieldKind.STRING,
    "phone": FieldKind.STRING,
    "status": FieldKind.STRING,
    "balance": FieldKind.NUMBER,
    "defaultCurrency": FieldKind.STRING,
    "sourceModifiedDate": FieldKind.DATE,
}
ACCOUNT_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "name": FieldKind.STRING,
    "nominalCode": FieldKind.STRING,
    "type": FieldKind.STRING,
    "accountType": FieldKind.STRING,
    "accountNumber": FieldKind.STRING,
    "currency": FieldKind.STRING,
    "status": FieldKind.STRING,
    "code": FieldKind.STRING,
    "sourceModifiedDate": FieldKind.DATE,
}
COMPANY_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "name": FieldKind.STRING,
    "description": FieldKind.STRING,
    "created": FieldKind.DATE,
    "lastSync": FieldKind.DATE,
}
CONNECTION_FIELDS: dict[str, FieldKind] = {
    "id": FieldKind.STRING,
    "integrationId": FieldKind.STRING,
    "integrationKey": FieldKind.STRING,
    "sourceId": FieldKind.STRING,
    "sourceType": FieldKind.STRING,
    "platformName": FieldKind.STRING,
    "status": FieldKind.STRING,
    "created": FieldKind.DATE,
    "lastSync": FieldKind.DATE,
}

_OPERATORS = ("!=", ">=", "<=", "=", "~", ">", "<")
_PROPERTY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*")


def malformed(detail: str = "Malformed query.") -> ApiError:
    return ApiError(400, f"Error parsing query - {detail}")


def parse_instant(text: str) -> datetime | None:
    """An ISO-8601 date or date-time as a naive UTC datetime (naive input is taken as is)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _resolve(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class _Comparison:
    path: str
    kind: FieldKind
    op: str
    raw: str

    def compile(self) -> Predicate:
        if self.kind is FieldKind.STRING:
            if self.op not in ("=", "!=", "~"):
                raise malformed(f"Operator {self.op} cannot be used on {self.path}")
            wanted = self.raw.casefold()
            return self._string_predicate(wanted)
        if self.op == "~":
            raise malformed(f"Operator ~ can only be used on strings, not {self.path}")
        if self.kind is FieldKind.NUMBER:
            try:
                number = Decimal(self.raw)
            except InvalidOperation:
                raise malformed(f"'{self.raw}' is not a number") from None
            if not number.is_finite():
                raise malformed(f"'{self.raw}' is not a number")
            return self._ordered_predicate(number, _as_number)
        instant = parse_instant(self.raw)
        if instant is None:
            raise malformed(f"'{self.raw}' is not a date")
        return self._ordered_predicate(instant, _as_instant)

    def _string_predicate(self, wanted: str) -> Predicate:
        path, op = self.path, self.op

        def predicate(record: Mapping[str, Any]) -> bool:
            value = _resolve(record, path)
            if value is None:
                return False  # (D) nulls cannot be queried
            text = str(value).casefold()
            if op == "=":
                return text == wanted
            if op == "!=":
                return text != wanted
            return wanted in text

        return predicate

    def _ordered_predicate(self, target: Any, convert: Callable[[Any], Any]) -> Predicate:
        path, op = self.path, self.op

        def predicate(record: Mapping[str, Any]) -> bool:
            value = convert(_resolve(record, path))
            if value is None:
                return False
            return bool(_compare(value, op, target))

        return predicate


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    return None


def _as_instant(value: Any) -> datetime | None:
    return parse_instant(value) if isinstance(value, str) else None


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == ">":
        return bool(left > right)
    if op == "<":
        return bool(left < right)
    if op == ">=":
        return bool(left >= right)
    return bool(left <= right)


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, FieldKind], resource: str) -> None:
        self.text = text
        self.pos = 0
        self.fields = {name.casefold(): (name, kind) for name, kind in fields.items()}
        self.resource = resource

    def parse(self) -> Predicate:
        predicate = self._expr()
        self._skip_spaces()
        if self.pos != len(self.text):
            raise malformed()
        return predicate

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _take(self, token: str) -> bool:
        self._skip_spaces()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def _expr(self) -> Predicate:
        terms = [self._term()]
        while self._take("||"):
            terms.append(self._term())
        if len(terms) == 1:
            return terms[0]
        return lambda record: any(term(record) for term in terms)

    def _term(self) -> Predicate:
        factors = [self._factor()]
        while self._take("&&"):
            factors.append(self._factor())
        if len(factors) == 1:
            return factors[0]
        return lambda record: all(factor(record) for factor in factors)

    def _factor(self) -> Predicate:
        if self._take("{"):
            inner = self._expr()
            if not self._take("}"):
                raise malformed()
            return inner
        return self._comparison().compile()

    def _comparison(self) -> _Comparison:
        match = _PROPERTY.match(self.text, self.pos)
        if match is None:
            raise malformed()
        name = match.group(1)
        self.pos = match.end()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            raise malformed()
        self.pos += len(op)
        end = self._value_end()
        raw = self.text[self.pos:end].strip()
        self.pos = end
        if not raw or raw[0] in "=!<>~" or "{" in raw:
            raise malformed()  # (A) e.g. `status==Open`: no operator is two `=`
        known = self.fields.get(name.casefold())
        if known is None:
            raise malformed(f"Could not resolve property {name} on {self.resource}")
        return _Comparison(path=known[0], kind=known[1], op=op, raw=raw)

    def _value_end(self) -> int:
        ends = [i for i in (self.text.find(t, self.pos) for t in ("&&", "||", "}")) if i >= 0]
        return min(ends, default=len(self.text))


def compile_query(text: str, fields: Mapping[str, FieldKind], resource: str) -> Predicate:
    """Compile `text`; raise a 400 ApiError ("Error parsing query - ...") when it is bad."""
    if len(text) >= MAX_QUERY_LENGTH:
        raise malformed("Query is too long.")
    if not text.strip():
        raise malformed()
    return _Parser(text, fields, resource).parse()
