"""Small real files for tests and benchmarks: each opens cleanly with the parser ``jijiao_kit.uploads``
checks it with (a fake ``%PDF-`` header no longer passes). A ``marker`` makes the bytes (and so the
content hash) of otherwise equal files differ."""

from __future__ import annotations

import io
import struct
import zipfile

from PIL import Image
from pypdf import PdfWriter

from jijiao_kit.xlsx import rows_xlsx

_OOXML_MAIN = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
#: The main stream of each legacy Office type and the bytes its format starts it with.
_OLE_MAIN = {
    "doc": ("WordDocument", b"\xec\xa5\xc1\x00"),  # Word's FIB identifier, then nFib
    "xls": ("Workbook", b"\x09\x08\x10\x00\x00\x06\x05\x00"),  # a BIFF8 BOF record
    "ppt": ("PowerPoint Document", b"\x0f\x00\xe8\x03"),  # a DocumentContainer record header
}
_FREE, _END, _FAT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def pdf(marker: str = "", pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=100, height=100)
    if marker:
        writer.add_metadata({"/Subject": marker})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image(kind: str = "PNG", size: int = 4) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), "white").save(out, kind)
    return out.getvalue()


def ooxml(kind: str, marker: str = "", *, main_part: bool = True) -> bytes:
    """A docx, xlsx or pptx: a zip whose ``[Content_Types].xml`` names its main part, and that part."""
    if kind == "xlsx" and main_part:
        return rows_xlsx("t", ["h"], [[marker]])
    part, content_type = _OOXML_MAIN[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>',
        )
        if main_part:
            archive.writestr(part, f'<?xml version="1.0" encoding="UTF-8"?><main marker="{marker}"/>')
    return out.getvalue()


def docx(marker: str = "") -> bytes:
    return ooxml("docx", marker)


def pptx(marker: str = "") -> bytes:
    return ooxml("pptx", marker)


def xlsx(marker: str = "") -> bytes:
    return ooxml("xlsx", marker)


def ole2(stream: str, content: bytes) -> bytes:
    """A compound file (OLE2, version 3, 512-byte sectors) holding one stream in the root storage:
    sector 0 the FAT, sector 1 the directory, then the stream (padded to 4096 bytes, the mini-stream
    cutoff, so it lives in regular sectors)."""
    content = content.ljust(4096, b"\x00")
    sectors = -(-len(content) // 512)
    header = b"".join(
        [
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            bytes(16),  # CLSID
            struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6),  # versions, byte order, sector shifts
            bytes(6),
            struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0),
            struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108,  # DIFAT: the FAT is sector 0
        ]
    )
    chain = [*range(3, 2 + sectors), _END]  # sector 2 onwards: the stream
    fat = struct.pack(f"<{128}I", _FAT, _END, *chain, *[_FREE] * (126 - sectors))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00" if name else b""
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1 if kind else 0)
            + struct.pack("<III", _NONE, _NONE, child)
            + bytes(16 + 4 + 16)  # CLSID, state bits, creation and modification times
            + struct.pack("<IQ", start, size)
        )

    directory = (
        entry("Root Entry", 5, 1, _END, 0) + entry(stream, 2, _NONE, 2, len(content)) + entry("", 0, _NONE, 0, 0) * 2
    )
    return header + fat + directory + content.ljust(sectors * 512, b"\x00")


def legacy_office(kind: str, marker: str = "") -> bytes:
    """A doc, xls or ppt: its main stream, starting as its format starts it."""
    stream, signature = _OLE_MAIN[kind]
    return ole2(stream, signature + marker.encode())


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4(marker: str = "") -> bytes:
    """An MP4 (ISO base media file): ``ftyp``, a ``moov`` with its movie header, an ``mdat``."""
    mvhd = _box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, 0) + bytes(80))
    return (
        _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
        + _box(b"moov", mvhd)
        + _box(b"mdat", marker.encode())
    )
