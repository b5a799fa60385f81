"""Suggestions for a new bill read from its document's text layer: supplier (one of the
company's), reference, issue and due dates, total and currency.

Pure: bytes in, suggestions out. Images and PDFs without a text layer give none (billbot does
no OCR) and say why, so the form can tell the person to type everything. Nothing here is ever
used as is: the Create bill modal shows each value marked SUGGESTED_HINT for the person to
confirm or correct.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from billbot.domain.document_fields import (
    Money,
    currency_in,
    find_date,
    find_money,
)
from billbot.domain.pdf_text import is_pdf, pdf_text

SUGGESTED_HINT = "Suggested from the document — check"
NO_TEXT_IMAGE = "An image has no text layer: nothing was suggested, type the bill's details."
NO_TEXT_PDF = "This PDF has no text layer (a scan?): nothing was suggested, type the bill's details."
NOT_A_DOCUMENT = "Only PDFs are read for suggestions: type the bill's details."

_T = TypeVar("_T")

# Labels, most specific first. Each is matched case-insensitively at a word boundary.
_REFERENCE_LABELS = (
    r"invoice\s*(?:no\.?|number|num\.?|#)", r"inv\.?\s*(?:no\.?|#)", r"bill\s*(?:no\.?|number|#)",
    r"reference", r"ref\.?(?:\s*no\.?)?", r"document\s*(?:no\.?|number)",
)
_DUE_LABELS = (r"due\s*date", r"payment\s*due(?:\s*date)?", r"pay(?:able)?\s*by", r"due\s*by",
               r"due\s*on", r"due")
_ISSUE_LABELS = (r"invoice\s*date", r"issue\s*date", r"date\s*of\s*issue", r"issued(?:\s*on)?",
                 r"tax\s*point(?:\s*date)?", r"bill\s*date", r"date")
_TOTAL_FIRST = (r"amount\s*due", r"balance\s*due", r"total\s*due", r"amount\s*payable",
                r"total\s*payable", r"grand\s*total", r"invoice\s*total", r"total\s*amount")
_TOTAL_LAST = (r"(?<!sub)(?<!sub-)(?<!sub\s)total(?!\s*(?:vat|tax|gst|net|excl|before))",)
_REFERENCE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/_.]{0,39}")
_SEPARATORS = " \t:#.-–—=|"


@dataclass(frozen=True)
class BillSuggestions:
    """What the document suggests; None for each field it does not. `note` says why there are
    none at all (an image, a scan), "" when the text layer was read."""

    supplier_id: str | None = None
    supplier_name: str | None = None
    reference: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    total: Decimal | None = None
    currency: str | None = None
    note: str = ""

    @property
    def empty(self) -> bool:
        return not any((self.supplier_id, self.reference, self.issue_date, self.due_date,
                        self.total, self.currency))


def suggest_bill(
    document: bytes, media_type: str, supplier_names: Mapping[str, str]
) -> BillSuggestions:
    """Suggestions from `document` (as downloaded from Slack, with Slack's `mimetype`);
    `supplier_names` maps the company's supplier ids to their names."""
    if media_type.lower().startswith("image/"):
        return BillSuggestions(note=NO_TEXT_IMAGE)
    if not is_pdf(document, media_type):
        return BillSuggestions(note=NOT_A_DOCUMENT)
    text = pdf_text(document)
    if not text:
        return BillSuggestions(note=NO_TEXT_PDF)
    return suggest_from_text(text, supplier_names)


def suggest_from_text(text: str, supplier_names: Mapping[str, str]) -> BillSuggestions:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    supplier = match_supplier(text, supplier_names)
    issue = _labelled(lines, _ISSUE_LABELS, find_date, exclude=r"\bdue\b")
    due = _labelled(lines, _DUE_LABELS, find_date)
    if due is not None and issue is not None and due < issue:
        due = None  # a "due" before the issue date is some other date; don't suggest it
    total = _labelled(lines, _TOTAL_FIRST, find_money) or _labelled(
        lines, _TOTAL_LAST, find_money, last=True)
    currency = _currency(total, text)
    return BillSuggestions(
        supplier_id=supplier[0] if supplier else None,
        supplier_name=supplier[1] if supplier else None,
        reference=_labelled(lines, _REFERENCE_LABELS, _reference),
        issue_date=issue,
        due_date=due,
        total=total.amount if total else None,
        currency=currency,
    )


def _currency(total: Money | None, text: str) -> str | None:
    if total is not None and total.currency:
        return total.currency
    return currency_in(text)


def _labelled(
    lines: Sequence[str],
    labels: Sequence[str],
    read: Callable[[str], _T | None],
    *,
    exclude: str | None = None,
    last: bool = False,
) -> _T | None:
    """The value after the first label that has one, on the label's line or, in a layout
    that prints values under their labels, on the next line. With `last`, the last such
    value (a "Total" at the foot of the page, after the lines' own totals)."""
    for label in labels:
        pattern = re.compile(rf"(?<![A-Za-z]){label}(?![A-Za-z])", re.IGNORECASE)
        found: _T | None = None
        for index, line in enumerate(lines):
            if exclude and re.search(exclude, line, re.IGNORECASE):
                continue
            match = pattern.search(line)
            if match is None:
                continue
            value = read(line[match.end():].lstrip(_SEPARATORS))
            if value is None and index + 1 < len(lines) and not line[match.end():].strip(
                    _SEPARATORS):
                value = read(lines[index + 1])
            if value is not None:
                if not last:
                    return value
                found = value
        if found is not None:
            return found
    return None


def _reference(rest: str) -> str | None:
    match = _REFERENCE_VALUE.match(rest)
    if match is None:
        return None
    value = match.group(0).rstrip(".-/_")
    # A reference carries a digit; a word after "Reference" is a label or prose.
    return value if any(ch.isdigit() for ch in value) else None


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", " ", folded).split()
    return " ".join(words)


_SUFFIXES = {"ltd", "limited", "plc", "llc", "inc", "gmbh", "sa", "sarl", "bv", "co", "corp",
             "company", "llp", "the"}


def _core(name: str) -> str:
    words = [word for word in _normal(name).split() if word not in _SUFFIXES]
    return " ".join(words)


def match_supplier(text: str, supplier_names: Mapping[str, str]) -> tuple[str, str] | None:
    """The supplier whose name (legal suffixes aside: "Acme Ltd" is "ACME LIMITED") appears
    in the text as whole words; the longest name wins ("Acme Cloud" over "Acme")."""
    haystack = f" {_normal(text)} "
    best: tuple[int, str, str] | None = None
    for supplier_id, name in supplier_names.items():
        core = _core(name)
        if len(core) < 3 or f" {core} " not in haystack:
            continue
        if best is None or len(core) > best[0]:
            best = (len(core), supplier_id, name)
    return (best[1], best[2]) if best else None
