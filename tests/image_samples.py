"""Small real images, written byte by byte: PNG (zlib and CRCs, decodable), baseline JPEG (one grey 8x8 block per
block of the image, with minimal Huffman tables) and WebP (VP8L, VP8 and VP8X headers), and multipart bodies.
"""

from __future__ import annotations

import struct
import uuid
import zlib


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 2, height: int = 2, *, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """An RGB PNG of one colour: every row is filter byte 0 then its pixels."""
    row = b"\x00" + bytes(colour) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * height))
        + _png_chunk(b"IEND", b"")
    )


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's shape); its CRCs are right."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def jpeg(width: int = 16, height: int = 8, *, padding: int = 0) -> bytes:
    """A baseline greyscale JPEG: every 8x8 block is DC difference 0 then end-of-block, which tables of one code each
    write as two 0 bits. `padding` bytes of comment segments make it as large as a test needs.
    """
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    one_code = bytes([1] + [0] * 15)
    comments = b""
    while padding > 0:
        size = min(padding, 65_000)
        comments += _segment(0xFE, b"p" * size)
        padding -= size
    return (
        b"\xff\xd8"
        + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + comments
        + _segment(0xDB, b"\x00" + b"\x01" * 64)
        + _segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
        + _segment(0xC4, b"\x00" + one_code + b"\x00")
        + _segment(0xC4, b"\x10" + one_code + b"\x00")
        + _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + scan
        + b"\xff\xd9"
    )


def _riff(chunks: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def _webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def webp_lossless(width: int = 3, height: int = 2) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return _riff(_webp_chunk(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\x00\x00\x00\x00\x00"))


def webp_lossy(width: int = 4, height: int = 4) -> bytes:
    frame = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00" * 10
    return _riff(_webp_chunk(b"VP8 ", frame))


def webp_extended(width: int = 5, height: int = 7) -> bytes:
    header = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    image = b"\x2f" + struct.pack("<I", (width - 1) | ((height - 1) << 14)) + b"\x00" * 5
    return _riff(_webp_chunk(b"VP8X", header) + _webp_chunk(b"VP8L", image))


def multipart(parts: list[tuple[str, bytes, str | None]], boundary: str | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body of (name, content, filename) parts, and its Content-Type."""
    boundary = boundary or f"----boundary{uuid.uuid4().hex}"
    body = b""
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def image_form(content: bytes, filename: str = "photo.png") -> tuple[bytes, str]:
    return multipart([("image", content, filename)])
