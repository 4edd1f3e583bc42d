"""Rich text and images of reflections: HTML sanitised with nh3 (a maintained allow-list sanitiser),
images checked by their content (Pillow decodes them) and size."""

from __future__ import annotations

import io
import re
from collections.abc import Collection
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import ClassVar

import nh3
from PIL import Image, UnidentifiedImageError

TAGS = {"p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "h3", "h4", "blockquote", "img", "span"}
ATTRIBUTES: dict[str, set[str]] = {"img": {"src", "alt"}}
#: Images in a reflection are the ones uploaded here: ``/v1/reflection-images/<id>`` only (and, checked by
#: the use case with ``images=``, only the author's own).
IMAGE_SRC = re.compile(r"^/v1/reflection-images/(?P<id>[0-9a-f]{12,32})$")
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


def sanitise(html: str, *, images: Collection[str] | None = None) -> str:
    """``html`` with only the allowed tags and attributes; an ``<img>`` keeps its ``src`` only when it is
    an uploaded image, and, when ``images`` is given, one of those ids (the author's own)."""

    def only_uploaded_images(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            match = IMAGE_SRC.match(value)
            return value if match and (images is None or match.group("id") in images) else None
        return value

    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, attribute_filter=only_uploaded_images, url_schemes=set())


class _ImageIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            for name, value in attrs:
                match = IMAGE_SRC.match(value or "") if name == "src" else None
                if match:
                    self.ids.add(match.group("id"))


def image_ids(html: str) -> set[str]:
    """The ids of the uploaded images ``html`` embeds."""
    parser = _ImageIds()
    parser.feed(html)
    parser.close()
    return parser.ids


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    """The text of (sanitised) HTML, as a reader sees it: what the 10,000-character limit counts."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    width: int
    height: int


def check_image(data: bytes) -> CheckedImage | str:
    """The image's real type and size, or a refusal code (``image_too_large``, ``image_invalid``)."""
    if len(data) > MAX_IMAGE_BYTES:
        return "image_too_large"
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt, (width, height) = probe.format, probe.size
            if fmt not in IMAGE_FORMATS:
                return "image_invalid"
            if width * height > MAX_IMAGE_PIXELS:
                return "image_too_large"
            probe.verify()  # decodes the structure: a renamed or truncated file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return "image_invalid"
    return CheckedImage(IMAGE_FORMATS[fmt], width, height)


class _Paragraphs(HTMLParser):
    BLOCKS: ClassVar[frozenset[str]] = frozenset({"p", "br", "li", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.paragraphs.append("")

    def handle_data(self, data: str) -> None:
        self.paragraphs[-1] += data


def paragraphs_of(html: str) -> list[str]:
    """The text of (sanitised) HTML split at its blocks (for the printed book)."""
    parser = _Paragraphs()
    parser.feed(html)
    parser.close()
    return [p.strip() for p in parser.paragraphs if p.strip()]
