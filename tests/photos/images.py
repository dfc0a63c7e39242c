"""Real image files made by Pillow for the photo tests: a phone-like JPEG with EXIF GPS and
an orientation, a PNG with text chunks, a WebP with EXIF, a decompression bomb, a GIF."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _picture(size: tuple[int, int]) -> Image.Image:
    img = Image.new("RGB", size, (30, 120, 200))
    img.paste((220, 40, 40), (0, 0, size[0] // 2, size[1] // 3))
    return img


def jpeg_with_gps(size: tuple[int, int] = (64, 32), orientation: int = 6) -> bytes:
    """A JPEG carrying GPS coordinates (Almaty) and an orientation (6: turn 90° clockwise)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (43.0, 15.0, 6.0)
    gps[3] = "E"
    gps[4] = (76.0, 56.0, 42.0)
    out = io.BytesIO()
    _picture(size).save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_with_text(size: tuple[int, int] = (40, 30)) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Иван Иванов, ул. Абая 1")
    info.add_text("GPS", "43.25,76.95")
    out = io.BytesIO()
    img = _picture(size).convert("RGBA")
    img.putpixel((0, 0), (0, 0, 0, 0))
    img.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp_with_exif(size: tuple[int, int] = (50, 40)) -> bytes:
    exif = Image.Exif()
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (43.0, 15.0, 6.0)
    out = io.BytesIO()
    _picture(size).save(out, "WEBP", exif=exif)
    return out.getvalue()


def bomb(side: int = 10_000) -> bytes:
    """A PNG of ``side``² pixels (100 million by default) in about 12 KB."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    return out.getvalue()


def gif(size: tuple[int, int] = (20, 20)) -> bytes:
    out = io.BytesIO()
    _picture(size).save(out, "GIF")
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    """Whether an image file carries EXIF GPS (or any EXIF at all)."""
    img = Image.open(io.BytesIO(data))
    exif = img.getexif()
    return bool(exif) or "exif" in img.info or bool(exif.get_ifd(GPS_IFD))


def small_jpeg(seed: int) -> bytes:
    """A distinct small JPEG per ``seed`` (no metadata)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (seed * 30 % 256, 10, 10)).save(out, "JPEG")
    return out.getvalue()
