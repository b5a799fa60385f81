"""The seeded attachments are real files: a PDF whose cross-reference table points at its
objects, a PNG whose chunks check out; most bills carry one, some several, some none."""

from __future__ import annotations

import re
import struct
import zlib

from billbot.sandbox.codat.invoice_files import invoice_pdf, receipt_png
from billbot.sandbox.codat.seed import BILL_ID_BASE
from billbot.sandbox.codat.state import SandboxState


def test_the_pdf_cross_reference_table_points_at_every_object() -> None:
    pdf = invoice_pdf("Invoice INV-1 (draft)", ["A4 paper: 60 x GBP 12.50", "Total \\ done"])
    assert pdf.startswith(b"%PDF-1.4") and pdf.endswith(b"%%EOF\n")
    startxref = int(re.findall(rb"startxref\n(\d+)", pdf)[-1])
    assert pdf[startxref:].startswith(b"xref\n0 7\n")
    offsets = re.findall(rb"(\d{10}) 00000 n", pdf[startxref:])
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset):].startswith(f"{number} 0 obj".encode())
    stream = pdf.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0]
    assert f"/Length {len(stream)}".encode() in pdf
    assert b"(Invoice INV-1 \\(draft\\)) Tj" in stream


def test_the_png_chunks_check_out() -> None:
    png = receipt_png(3, width=40, height=30)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, kinds, data = 8, [], b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind, body = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        kinds.append(kind)
        data += body if kind == b"IDAT" else b""
        at += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert len(zlib.decompress(data)) == 30 * (40 + 1)


def test_most_bills_carry_attachments() -> None:
    ledger = SandboxState.seeded().main_ledger
    with_files = [b for b in ledger.bills if ledger.attachments.get(b)]
    assert len(with_files) > 0.7 * len(ledger.bills)
    assert str(BILL_ID_BASE + 4) not in with_files  # none: "no attachment" shows
    names = {a.meta["name"] for a in ledger.attachments[str(BILL_ID_BASE + 2)].values()}
    assert names == {"invoice-INV-00002.pdf", "receipt-INV-00002.png"}
