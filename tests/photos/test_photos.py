"""Residents' photos (twin.photos): the content decides the type, bombs are refused before
decoding, metadata is gone after re-encoding, files are named by content hash."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from tests.photos import images
from twin.core.errors import BadInput, NotFound, TooLarge
from twin.photos import MAX_BYTES, PhotoStore, clean


def test_gps_and_every_other_exif_tag_are_gone_and_the_photo_stays_upright(
    tmp_path: Path,
) -> None:
    data = images.jpeg_with_gps((64, 32), orientation=6)
    assert images.has_gps(data)
    photo = PhotoStore(tmp_path).save(data)
    stored = (tmp_path / photo.name[:2] / photo.name).read_bytes()
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and photo.content_type == "image/jpeg"
    assert not images.has_gps(stored)
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    # orientation 6 was applied before the tag was dropped: 64×32 becomes 32×64
    assert img.size == (32, 64) == (photo.width, photo.height)
    assert photo.name == hashlib.sha256(stored).hexdigest() + ".jpg"


def test_png_text_chunks_and_webp_exif_are_gone(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    png = store.save(images.png_with_text())
    stored = store.path(png.name).read_bytes()
    img = Image.open(io.BytesIO(stored))
    assert img.format == "PNG" and img.mode == "RGBA" and png.name.endswith(".png")
    assert "Author" not in img.info and "GPS" not in img.info
    assert "Иван".encode() not in stored and b"Author" not in stored
    webp = store.save(images.webp_with_exif())
    stored = store.path(webp.name).read_bytes()
    assert webp.content_type == "image/webp" and not images.has_gps(stored)


def test_the_same_photo_is_kept_once(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    a, b = store.save(images.jpeg_with_gps()), store.save(images.jpeg_with_gps())
    assert a == b
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_large_photo_is_shrunk(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (3000, 1000), (10, 200, 10)).save(out, "PNG")
    photo = PhotoStore(tmp_path).save(out.getvalue())
    assert (photo.width, photo.height) == (2048, 683)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (images.bomb(), "too many pixels"),
        (images.bomb(7000), "7000×7000 pixels; at most 40 million"),
        (images.gif(), "not a JPEG, PNG or WebP"),
        (b"%PDF-1.4 not an image at all", "not a JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a JPEG"),
        (images.jpeg_with_gps((400, 300))[:600], "damaged or truncated"),
        (b"", "empty"),
    ],
    ids=["bomb", "over-limit", "gif", "pdf", "svg", "truncated", "empty"],
)
def test_bad_photos_are_refused_naming_the_problem(
    data: bytes, problem: str, tmp_path: Path
) -> None:
    with pytest.raises(BadInput, match=problem):
        PhotoStore(tmp_path).save(data, "photo")
    assert not any(tmp_path.rglob("*.*"))


def test_too_many_bytes_are_too_large() -> None:
    with pytest.raises(TooLarge, match="at most 8,000,000"):
        clean(b"\xff\xd8\xff" + b"\0" * MAX_BYTES)


def test_names_are_checked(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    for bad in ["../../etc/passwd", "a" * 64 + ".svg", "A" * 64 + ".jpg", "0" * 64 + ".jpg"]:
        with pytest.raises(NotFound):
            store.path(bad)
    with pytest.raises(BadInput, match="no uploaded photo"):
        store.check(["0" * 64 + ".jpg"])
    with pytest.raises(BadInput, match="at most 5"):
        store.check([store.save(images.small_jpeg(i)).name for i in range(6)])
