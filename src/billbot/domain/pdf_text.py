"""The text layer of a PDF, read with pypdf. Only text the PDF carries as text: a scanned page
(an image inside the PDF) has none, and billbot does no OCR, so it gives no text at all."""

from __future__ import annotations

import io
import logging

# An invoice's fields are on its first pages; a 300-page contract is not read whole.
MAX_PAGES = 5
# Larger than any invoice Slack would carry to us for this (files.info caps what we download).
MAX_BYTES = 20 * 1024 * 1024

_log = logging.getLogger(__name__)


def is_pdf(document: bytes, media_type: str) -> bool:
    """A PDF by its declared type or, when Slack says only "binary", by its header."""
    declared = media_type.split(";", 1)[0].strip().lower()
    return declared == "application/pdf" or document[:1024].lstrip().startswith(b"%PDF-")


def pdf_text(document: bytes) -> str:
    """The text of the first pages, "" when the PDF has no text layer or cannot be read.

    A damaged or encrypted file is not an error for the person: it only means no suggestions.
    """
    if len(document) > MAX_BYTES:
        return ""
    # Imported here: pypdf adds about 13 MB to every replica, and most never read an invoice.
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(document), strict=False)
        if reader.is_encrypted:
            return ""
        parts = [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        _log.info("pdf text layer unreadable: %s", type(exc).__name__)
        return ""
    return "\n".join(parts).strip()
