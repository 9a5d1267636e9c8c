"""Is this an image we serve? JPEG, PNG or WebP, judged by its bytes alone (never by a name or a declared type).

The headers are read here rather than by an imaging library: a few hundred lines of struct reads cost nothing at cold
start and nothing in the layer, whereas Pillow's arm64 wheel for Python 3.13 (12.2) unpacks to 19.9 MB, more than the
layer's whole budget. Nothing is
decoded: what is checked is that the container is whole and consistent, and that the dimensions it declares are sane.

- PNG: the signature, then every chunk walked to IEND with its CRC checked (IHDR first, with a valid bit depth and
  colour type; at least one IDAT); nothing but IEND's end after it.
- JPEG: SOI, the marker segments up to the first SOS with a frame header (SOFn) among them, and EOI at the end.
- WebP: a RIFF container whose size is the file's, chunks that fit it, and a VP8, VP8L or VP8X header with its
  signature and dimensions (VP8X must be followed by an image or animation chunk).

"Sane" dimensions: at least 1 and at most MAX_SIDE pixels a side, at most MAX_PIXELS in all, which keeps a small file
that declares a gigantic canvas (a decompression bomb) away from every client that would decode it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAX_SIDE = 16_384
# Pillow's own decompression-bomb threshold is ~89 million pixels; 64 million is a 8000 x 8000 photograph.
MAX_PIXELS = 64_000_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_BIT_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
# SOF0-3, 5-7, 9-11, 13-15 (C4 is DHT, C8 reserved, CC is DAC)
_JPEG_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length: TEM and RST0-7 (SOI and EOI are handled on their own)
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class InvalidImageData(ValueError):
    """The bytes are not an image this API accepts: the message says why, in words for the client."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png", "jpeg" or "webp"
    width: int
    height: int

    @property
    def media_type(self) -> str:
        return f"image/{self.format}"

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else self.format


def inspect_image(data: bytes) -> ImageInfo:
    """The image's format and dimensions, or InvalidImageData saying what is wrong with it."""
    if data.startswith(PNG_SIGNATURE):
        info = _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        info = _jpeg(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        info = _webp(data)
    else:
        raise InvalidImageData("the file is not a JPEG, PNG or WebP image (judged by its content, not its name)")
    _check_dimensions(info)
    return info


def _check_dimensions(info: ImageInfo) -> None:
    if info.width < 1 or info.height < 1:
        raise InvalidImageData(f"the {info.format.upper()} declares an empty canvas ({info.width} x {info.height})")
    if info.width > MAX_SIDE or info.height > MAX_SIDE or info.width * info.height > MAX_PIXELS:
        raise InvalidImageData(
            f"the image declares {info.width} x {info.height} pixels; at most {MAX_SIDE} a side and "
            f"{MAX_PIXELS:,} in all are accepted"
        )


def _png(data: bytes) -> ImageInfo:
    position = len(PNG_SIGNATURE)
    width = height = 0
    seen_idat = False
    first = True
    while True:
        if position + 12 > len(data):
            raise InvalidImageData("the PNG is truncated (it ends before its IEND chunk)")
        (length,) = struct.unpack_from(">I", data, position)
        chunk_type = data[position + 4 : position + 8]
        end = position + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            raise InvalidImageData(f"the PNG is truncated or damaged (chunk {chunk_type!r} runs past the file's end)")
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, position + 8 + length)
        if zlib.crc32(chunk_type + body) != crc:
            raise InvalidImageData(f"the PNG is damaged (chunk {chunk_type.decode('latin-1')!r} fails its CRC)")
        if first:
            if chunk_type != b"IHDR" or length != 13:
                raise InvalidImageData("the PNG is damaged (its first chunk is not a 13-byte IHDR)")
            width, height, bit_depth, colour_type, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
            if bit_depth not in _PNG_BIT_DEPTHS.get(colour_type, set()):
                raise InvalidImageData(
                    f"the PNG's header is inconsistent (bit depth {bit_depth}, colour {colour_type})"
                )
            if compression != 0 or filtering != 0 or interlace not in (0, 1):
                raise InvalidImageData("the PNG's header names an unknown compression, filter or interlace method")
            first = False
        elif chunk_type == b"IHDR":
            raise InvalidImageData("the PNG is damaged (a second IHDR chunk)")
        elif chunk_type == b"IDAT":
            seen_idat = True
        elif chunk_type == b"IEND":
            if not seen_idat:
                raise InvalidImageData("the PNG holds no image data (no IDAT chunk)")
            if end != len(data):
                raise InvalidImageData("the PNG has data after its IEND chunk")
            return ImageInfo("png", width, height)
        position = end


def _jpeg(data: bytes) -> ImageInfo:
    position = 2
    frame: tuple[int, int] | None = None
    while True:
        # a marker: 0xFF, any number of 0xFF fill bytes, then its code
        if position >= len(data) or data[position] != 0xFF:
            raise InvalidImageData("the JPEG is damaged or truncated (a marker was expected)")
        while position < len(data) and data[position] == 0xFF:
            position += 1
        if position >= len(data):
            raise InvalidImageData("the JPEG is truncated (it ends inside a marker)")
        marker = data[position]
        position += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD8, 0xD9, 0x00):
            raise InvalidImageData("the JPEG is damaged (an unexpected marker before its image data)")
        if position + 2 > len(data):
            raise InvalidImageData("the JPEG is truncated (it ends inside a segment header)")
        (length,) = struct.unpack_from(">H", data, position)
        if length < 2 or position + length > len(data):
            raise InvalidImageData("the JPEG is truncated or damaged (a segment runs past the file's end)")
        if marker in _JPEG_FRAME_MARKERS:
            if length < 8:
                raise InvalidImageData("the JPEG's frame header is too short")
            precision, height, width, components = struct.unpack_from(">BHHB", data, position + 2)
            if precision not in (8, 12, 16) or components not in (1, 2, 3, 4) or length != 8 + 3 * components:
                raise InvalidImageData("the JPEG's frame header is inconsistent")
            if height == 0:
                # the height would come later in a DNL segment: rare, and nothing a client decodes lazily
                raise InvalidImageData("the JPEG does not declare its height in its frame header")
            frame = (width, height)
        if marker == 0xDA:  # start of scan: entropy-coded data follows up to EOI
            if frame is None:
                raise InvalidImageData("the JPEG has no frame header (SOF) before its image data")
            if not data.rstrip(b"\x00").endswith(b"\xff\xd9") or len(data) < position + length + 2:
                raise InvalidImageData("the JPEG is truncated (it does not end with its EOI marker)")
            return ImageInfo("jpeg", frame[0], frame[1])
        position += length


def _webp(data: bytes) -> ImageInfo:
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 != len(data):  # the size counts every chunk and its pad byte
        raise InvalidImageData("the WebP is truncated or has data after its end (its RIFF size is not its length)")
    position = 12
    info: ImageInfo | None = None
    canvas: tuple[int, int] | None = None
    seen_image = False
    while position + 8 <= len(data):
        chunk_type = data[position : position + 4]
        (size,) = struct.unpack_from("<I", data, position + 4)
        body_start = position + 8
        if body_start + size > len(data):
            raise InvalidImageData(f"the WebP is truncated (chunk {chunk_type!r} runs past the file's end)")
        body = data[body_start : body_start + size]
        if position == 12:
            if chunk_type == b"VP8 ":
                info = _vp8(body)
            elif chunk_type == b"VP8L":
                info = _vp8l(body)
            elif chunk_type == b"VP8X":
                if size < 10:
                    raise InvalidImageData("the WebP's VP8X header is too short")
                canvas = (
                    1 + int.from_bytes(body[4:7], "little"),
                    1 + int.from_bytes(body[7:10], "little"),
                )
            else:
                raise InvalidImageData("the WebP does not start with a VP8, VP8L or VP8X chunk")
        elif chunk_type in (b"VP8 ", b"VP8L", b"ANMF"):
            if canvas is None:
                raise InvalidImageData("the WebP has more than one image without an extended (VP8X) header")
            if chunk_type == b"VP8 ":
                _vp8(body)
            elif chunk_type == b"VP8L":
                _vp8l(body)
            seen_image = True
        position = body_start + size + (size & 1)
    if position < len(data) - 1:
        raise InvalidImageData("the WebP ends inside a chunk header")
    if canvas is not None:
        if not seen_image:
            raise InvalidImageData("the WebP's extended header is not followed by any image data")
        return ImageInfo("webp", canvas[0], canvas[1])
    if info is None:  # pragma: no cover - the first chunk always sets one or the other, or raises
        raise InvalidImageData("the WebP holds no image")
    return info


def _vp8(body: bytes) -> ImageInfo:
    if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
        raise InvalidImageData("the WebP's VP8 frame header is damaged (no start code)")
    if body[0] & 1:
        raise InvalidImageData("the WebP's VP8 data does not start with a key frame")
    width, height = struct.unpack_from("<HH", body, 6)
    return ImageInfo("webp", width & 0x3FFF, height & 0x3FFF)


def _vp8l(body: bytes) -> ImageInfo:
    if len(body) < 5 or body[0] != 0x2F:
        raise InvalidImageData("the WebP's VP8L header is damaged (no signature)")
    bits = int.from_bytes(body[1:5], "little")
    if bits >> 29:  # the version number, always 0
        raise InvalidImageData("the WebP's VP8L header names an unknown version")
    return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
