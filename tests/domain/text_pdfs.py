"""Text-layer PDFs written in tests: each piece of text placed where a real invoice would put
it (columns, labels above values), in Helvetica with WinAnsiEncoding so "€" and "£" are real
characters in the text layer, as in invoices that accounting tools export."""

from __future__ import annotations

from collections.abc import Sequence

from billbot.sandbox.codat.invoice_files import assemble_pdf

Placed = tuple[float, float, str]  # x, y (points from the bottom left), text


def _literal(value: str) -> bytes:
    raw = value.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(pages: Sequence[Sequence[Placed]]) -> bytes:
    """A PDF whose pages show the placed texts (10 pt Helvetica)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    font_number = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    kids = []
    for placed in pages:
        ops = [b"BT", b"/F1 10 Tf"]
        for x, y, text in placed:
            ops.append(f"1 0 0 1 {x} {y} Tm".encode() + b" (" + _literal(text) + b") Tj")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
                       + b"\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content}"
                       f" 0 R /Resources << /Font << /F1 {font_number} 0 R >> >> >>".encode())
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    return assemble_pdf(objects)


def lines_pdf(lines: Sequence[str]) -> bytes:
    """One page, one line of text under another."""
    return text_pdf([[(56, 780 - 16 * index, line) for index, line in enumerate(lines)]])


def image_only_pdf() -> bytes:
    """A "scanned" page: an image XObject and no text at all."""
    pixels = bytes([0x80]) * 16
    image = (b"<< /Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceGray "
             b"/BitsPerComponent 8 /Length 16 >>\nstream\n" + pixels + b"\nendstream")
    stream = b"q 200 0 0 200 100 500 cm /Im1 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        image,
    ]
    out = bytearray(b"%PDF-1.4\n")
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
