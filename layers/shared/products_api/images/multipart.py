"""The body of POST .../images: multipart/form-data holding one file part named `image`.

python-multipart parses it (a strict, streaming parser, pure Python, no dependencies): it stops at malformed part
headers and never reads beyond the closing boundary. What it cannot tell, this module checks: one `image` part and
nothing else, the file's size, and that the body ended with its closing boundary (a truncated upload is refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from products_api.errors import FieldProblem, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

IMAGE_PART = "image"
MAX_IMAGE_BYTES = 4 * 1024 * 1024
# The parts' headers and boundaries around the file: generous, and still far below what Lambda can carry.
MAX_ENVELOPE_BYTES = 64 * 1024
MEDIA_TYPE = "multipart/form-data"


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    too_large: bool = False


@dataclass(frozen=True)
class ImagePart:
    data: bytes
    # what the client called it and declared it to be: logged at most, never trusted
    filename: str | None
    declared_type: str | None


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data Content-Type; anything else is 415."""
    if not content_type:
        raise UnsupportedMediaType(f"send the image as {MEDIA_TYPE} with one file part named `{IMAGE_PART}`")
    media_type, parameters = parse_options_header(content_type)
    if media_type.decode("latin-1").lower() != MEDIA_TYPE:
        raise UnsupportedMediaType(
            f"Content-Type {media_type.decode('latin-1')!r} is not supported: send {MEDIA_TYPE} with one file part "
            f"named `{IMAGE_PART}`"
        )
    boundary = parameters.get(b"boundary")
    if not boundary or len(boundary) > 70:
        raise UnsupportedMediaType(f"the {MEDIA_TYPE} Content-Type needs a boundary parameter of 1 to 70 characters")
    return boundary


def _malformed(message: str) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field="body", message=message)])


def read_image_part(body: bytes, content_type: str | None) -> ImagePart:
    """The one file part `image` of the body, or the error a client can act on (415, 413, 400)."""
    boundary = boundary_of(content_type)
    if len(body) > MAX_IMAGE_BYTES + MAX_ENVELOPE_BYTES:
        raise PayloadTooLarge(
            f"the body is {len(body)} bytes; an image of at most {MAX_IMAGE_BYTES} bytes is accepted here "
            "(larger files, up to 10 MB, go through POST /api/v1/products/{id}/images/uploads)"
        )
    parts: list[_Part] = []
    header_field = bytearray()
    header_value = bytearray()
    ended = False

    def on_part_begin() -> None:
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1].headers[header_field.decode("latin-1").strip().lower()] = header_value.decode("utf-8", "replace")
        header_field.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = parts[-1]
        if len(part.data) + (end - start) > MAX_IMAGE_BYTES:
            part.too_large = True
            return
        part.data.extend(data[start:end])

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_end": on_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise _malformed(f"is not well-formed {MEDIA_TYPE}: {exc}") from exc
    if not ended:
        raise _malformed(f"is not well-formed {MEDIA_TYPE}: it ends before its closing boundary (truncated?)")
    return _the_image(parts)


def _the_image(parts: list[_Part]) -> ImagePart:
    problems: list[FieldProblem] = []
    images: list[tuple[_Part, bytes | None]] = []
    for part in parts:
        disposition, parameters = parse_options_header(part.headers.get("content-disposition", ""))
        name = parameters.get(b"name")
        if disposition.lower() != b"form-data" or name is None:
            problems.append(FieldProblem(field="body", message="every part needs Content-Disposition: form-data; name"))
        elif name.decode("utf-8", "replace") != IMAGE_PART:
            field_name = name.decode("utf-8", "replace")
            problems.append(FieldProblem(field=field_name, message=f"is not a known part (send only `{IMAGE_PART}`)"))
        else:
            images.append((part, parameters.get(b"filename")))
    if not images:
        problems.append(FieldProblem(field=IMAGE_PART, message="is required: one file part named `image`"))
    elif len(images) > 1:
        problems.append(FieldProblem(field=IMAGE_PART, message="send one image per request"))
    if problems:
        raise ValidationFailed(problems)
    part, filename = images[0]
    if part.too_large:
        raise PayloadTooLarge(
            f"the image is larger than {MAX_IMAGE_BYTES} bytes, the most accepted here "
            "(larger files, up to 10 MB, go through POST /api/v1/products/{id}/images/uploads)"
        )
    if not part.data:
        raise ValidationFailed([FieldProblem(field=IMAGE_PART, message="is empty")])
    return ImagePart(
        data=bytes(part.data),
        filename=filename.decode("utf-8", "replace") if filename is not None else None,
        declared_type=part.headers.get("content-type"),
    )
