"""Residents' photos over HTTP: ``POST /api/photos`` (a signed-in resident uploads one, as
the multipart field ``photo``) and ``GET /api/photos/{name}`` (anyone reads one).

The checks and cleaning are :mod:`twin.photos`'; this edge adds the body limit (the photo
limit plus room for the multipart envelope, refused while it streams in), the write limits
of the uploader's account and address, and the headers a user-supplied file is served with:
its own content type, ``nosniff``, a CSP that runs nothing (``default-src 'none'; sandbox``)
and a long cache (the name is the content's hash, so it never changes).
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from twin.api.deps import CallerDep
from twin.api.limits import body_limit
from twin.core.access import require_account
from twin.core.errors import BadInput
from twin.participation import WriteLimits
from twin.photos import MAX_BYTES, Cleaned, PhotoStore, content_type, prepare
from twin.photos.sweep import record_upload

router = APIRouter(tags=["photos"])

#: a photo and its multipart envelope
UPLOAD_BYTES = MAX_BYTES + 64_000
PhotoName = Annotated[str, Path(max_length=80, description="sha256.jpg|png|webp")]
HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": "inline",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def photo_store(request: Request) -> PhotoStore:
    """Return the app's photo store."""
    photos: PhotoStore = request.app.state.photos
    return photos


async def read_upload(value: object, field: str) -> bytes:
    """Return the bytes of a multipart file field, or raise :class:`BadInput`."""
    if not isinstance(value, UploadFile):
        raise BadInput(f"{field}: send the image as a multipart file field named {field!r}")
    data = await value.read(MAX_BYTES + 1)
    await value.close()
    return data


async def clean_upload(value: object, field: str) -> Cleaned:
    """Clean an uploaded file, not yet kept (in a worker thread: a 12 MP JPEG takes ~0.3 s)."""
    data = await read_upload(value, field)
    return await anyio.to_thread.run_sync(prepare, data, field)


@router.post("/api/photos", status_code=201)
@body_limit(UPLOAD_BYTES)
async def upload_photo(request: Request, caller: CallerDep) -> dict[str, Any]:
    """Upload a photo (JPEG, PNG or WebP, at most 8 MB and 40 million pixels) as the multipart
    field ``photo``; it is kept without its metadata, shrunk to 2048 px a side, under a
    content-hash name to give in an initiative's ``photos``. One that no initiative names
    within 24 hours is deleted."""
    account_id = require_account(caller, "upload a photo")
    limits: WriteLimits = request.app.state.write_limits
    limits.hit("photo", account_id, request.client.host if request.client else None)
    form = await request.form(max_files=1, max_fields=5)
    photo = photo_store(request).keep(await clean_upload(form.get("photo"), "photo"))
    # an upload nothing names within a day is deleted (twin.photos.sweep)
    await anyio.to_thread.run_sync(record_upload, request.app.state.store, photo.name, account_id)
    return photo.as_dict()


@router.get("/api/photos/{name}")
def get_photo(name: PhotoName, request: Request) -> FileResponse:
    """A stored photo, with its content type."""
    path = photo_store(request).path(name)
    return FileResponse(path, media_type=content_type(name), headers=HEADERS)
