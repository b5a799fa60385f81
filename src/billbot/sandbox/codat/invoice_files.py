"""Small but real invoice files for the seeded attachments: a one-page PDF (a valid xref table,
so any viewer opens it) and a PNG (zlib-compressed scanlines, a proper CRC per chunk)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence


def _pdf_text(value: str) -> str:
    """A PDF literal string: Latin-1 only (the standard fonts' encoding), parens escaped."""
    clean = value.encode("latin-1", "replace").decode("latin-1")
    return clean.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def invoice_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A one-page A4 PDF showing `title` in bold and `lines` beneath it."""
    ops = ["BT", "/F2 16 Tf", "56 780 Td", f"({_pdf_text(title)}) Tj", "/F1 10 Tf",
           "0 -28 Td"]
    for line in lines[:60]:
        ops += [f"({_pdf_text(line)}) Tj", "0 -14 Td"]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >>",
    ]
    return assemble_pdf(objects)


def assemble_pdf(objects: Sequence[bytes]) -> bytes:
    """A PDF file from its numbered objects (1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def receipt_png(seed: int, *, width: int = 160, height: int = 220) -> bytes:
    """A greyscale "scanned receipt": a white slip with ruled lines whose lengths vary by
    `seed`, so different bills get different images."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type 0 per scanline
        ruled = y > 20 and y % 12 == 0
        length = 30 + (seed * 37 + y * 11) % (width - 50)
        for x in range(width):
            edge = x < 8 or x >= width - 8 or y < 8 or y >= height - 8
            row.append(200 if edge else 60 if ruled and 16 <= x < 16 + length else 255)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))
