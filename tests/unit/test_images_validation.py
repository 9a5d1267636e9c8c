"""The image check: JPEG, PNG and WebP judged by their bytes, damaged and absurd files refused with a reason."""

from __future__ import annotations

import struct
import zlib

import pytest
from image_samples import jpeg, png, png_declaring, webp_extended, webp_lossless, webp_lossy
from products_api.images.validation import MAX_PIXELS, MAX_SIDE, ImageInfo, InvalidImageData, inspect_image


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(3, 2), ImageInfo("png", 3, 2)),
        (jpeg(16, 8), ImageInfo("jpeg", 16, 8)),
        (jpeg(9, 17, padding=200_000), ImageInfo("jpeg", 9, 17)),
        (webp_lossless(3, 2), ImageInfo("webp", 3, 2)),
        (webp_lossy(4, 6), ImageInfo("webp", 4, 6)),
        (webp_extended(5, 7), ImageInfo("webp", 5, 7)),
    ],
    ids=["png", "jpeg", "jpeg-padded", "webp-vp8l", "webp-vp8", "webp-vp8x"],
)
def test_real_images_are_recognised_with_their_dimensions(data: bytes, expected: ImageInfo) -> None:
    assert inspect_image(data) == expected


def test_media_types_and_extensions() -> None:
    assert (inspect_image(png()).media_type, inspect_image(png()).extension) == ("image/png", "png")
    assert (inspect_image(jpeg()).media_type, inspect_image(jpeg()).extension) == ("image/jpeg", "jpg")
    assert (inspect_image(webp_lossy()).media_type, inspect_image(webp_lossy()).extension) == ("image/webp", "webp")


def test_the_generated_png_decodes_to_its_pixels() -> None:
    data = png(2, 1, colour=(1, 2, 3))
    # the IDAT holds filter byte 0 and the pixels: what any decoder will read
    idat_length = struct.unpack_from(">I", data, 33)[0]
    assert zlib.decompress(data[41 : 41 + idat_length]) == b"\x00\x01\x02\x03\x01\x02\x03"


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, saved as photo.png\n",
        b"",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"%PDF-1.7\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
    ids=["text", "empty", "gif", "pdf", "svg"],
)
def test_anything_else_is_refused_by_its_content(data: bytes) -> None:
    with pytest.raises(InvalidImageData, match="not a JPEG, PNG or WebP"):
        inspect_image(data)


@pytest.mark.parametrize("cut", [8, 20, 40, -13, -1])
def test_a_truncated_png_is_refused(cut: int) -> None:
    with pytest.raises(InvalidImageData, match=r"truncated|damaged"):
        inspect_image(png(4, 4)[:cut])


def test_a_png_with_a_flipped_bit_fails_its_crc() -> None:
    data = bytearray(png(4, 4))
    data[18] ^= 0x01  # inside IHDR's width
    with pytest.raises(InvalidImageData, match="CRC"):
        inspect_image(bytes(data))


def test_a_png_with_an_inconsistent_header_is_refused() -> None:
    body = struct.pack(">IIBBBBB", 2, 2, 3, 2, 0, 0, 0)  # RGB cannot have 3 bits per sample
    chunk = struct.pack(">I", 13) + b"IHDR" + body + struct.pack(">I", zlib.crc32(b"IHDR" + body))
    data = png(2, 2)
    with pytest.raises(InvalidImageData, match="inconsistent"):
        inspect_image(data[:8] + chunk + data[33:])


def test_a_png_with_trailing_data_is_refused() -> None:
    with pytest.raises(InvalidImageData, match="after its IEND"):
        inspect_image(png() + b"<?php system($_GET['c']); ?>")


@pytest.mark.parametrize(
    ("width", "height"),
    [(100_000, 100_000), (MAX_SIDE + 1, 1), (1, MAX_SIDE + 1), (10_000, 10_000), (0, 5)],
    ids=["bomb", "too-wide", "too-tall", "too-many-pixels", "empty"],
)
def test_absurd_dimensions_are_refused(width: int, height: int) -> None:
    with pytest.raises(InvalidImageData, match=r"pixels|empty canvas"):
        inspect_image(png_declaring(width, height))


def test_the_largest_sane_image_passes() -> None:
    side = int(MAX_PIXELS**0.5)
    assert inspect_image(png_declaring(side, side)) == ImageInfo("png", side, side)


@pytest.mark.parametrize("cut", [4, 30, 120, -2, -1])
def test_a_truncated_jpeg_is_refused(cut: int) -> None:
    with pytest.raises(InvalidImageData, match=r"truncated|damaged|frame"):
        inspect_image(jpeg(16, 16)[:cut])


def test_a_jpeg_without_a_frame_header_is_refused() -> None:
    data = jpeg()
    start = data.index(b"\xff\xc0")
    length = struct.unpack_from(">H", data, start + 2)[0]
    with pytest.raises(InvalidImageData, match="no frame header"):
        inspect_image(data[:start] + data[start + 2 + length :])


def test_a_jpeg_bomb_is_refused() -> None:
    data = bytearray(jpeg(8, 8))
    start = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, start + 5, 65_000, 65_000)
    with pytest.raises(InvalidImageData, match="pixels"):
        inspect_image(bytes(data))


@pytest.mark.parametrize("make", [webp_lossless, webp_lossy, webp_extended])
def test_a_truncated_webp_is_refused(make: object) -> None:
    data = make()  # type: ignore[operator]
    with pytest.raises(InvalidImageData, match=r"truncated|RIFF size"):
        inspect_image(data[:-3])


def test_a_webp_without_its_vp8_start_code_is_refused() -> None:
    data = bytearray(webp_lossy())
    data[23] = 0  # the start code 9d 01 2a begins 3 bytes into the frame
    with pytest.raises(InvalidImageData, match="start code"):
        inspect_image(bytes(data))


def test_a_webp_extended_header_without_an_image_is_refused() -> None:
    header = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 10
    data = b"RIFF" + struct.pack("<I", 4 + len(header)) + b"WEBP" + header
    with pytest.raises(InvalidImageData, match="not followed by any image"):
        inspect_image(data)
