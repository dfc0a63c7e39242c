"""Open311 GeoReport v2 at ``/open311/v2/…``: the service list, appeals listed and read, and a
signed-in resident filing one. JSON or XML by the path's extension, as the spec has it; errors
in the spec's shape (``[{"code": 400, "description": "…"}]``, see ``twin.api.errors``).

``GET requests`` follows the spec's defaults: without ``start_date``/``end_date`` the last 90
days, and a range may not span more than 90 days; paged (``page``, ``page_size`` ≤ 200; the
total in the ``X-Total-Count`` header). Ids (``service_request_id``, comma-separated) override
the other filters, as in the spec.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from twin.api.deps import CallerDep, StoreDep
from twin.api.limits import body_limit
from twin.api.photos import UPLOAD_BYTES, clean_upload, photo_store
from twin.api.urls import public_base
from twin.appeals import georeport
from twin.appeals.catalog import CLOSED_STATUSES, OPEN_STATUSES
from twin.appeals.service import MAX_PAGE_SIZE, Appeals, Filters, staff
from twin.core.access import require_account
from twin.core.errors import BadInput, NotFound, TooLarge

router = APIRouter(prefix="/open311/v2", tags=["open311"])

#: the longest date range one listing may span (the spec's 90 days)
MAX_RANGE_DAYS = 90
MAX_BODY_BYTES = 64_000
_LANGS = ("ru", "kk", "en")


def _format(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise NotFound(f"no format {fmt[:10]!r}: use .json or .xml")
    return fmt


def _lang(lang: str) -> str:
    if lang not in _LANGS:
        raise BadInput(f"lang must be one of {', '.join(_LANGS)}")
    return lang


def _answer(fmt: str, root: str, item: str, records: list[dict[str, Any]], **kw: Any) -> Response:
    if fmt == "xml":
        return Response(
            georeport.to_xml(root, item, records), media_type="text/xml; charset=utf-8", **kw
        )
    return JSONResponse(records, **kw)


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.datetime.fromisoformat(value.strip()).date()
    except ValueError:
        raise BadInput(
            f"{name} must be a W3C datetime such as 2026-01-01T00:00:00Z (got {value[:40]!r})"
        ) from None


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) != 4:
        raise BadInput("bbox must be four numbers: min_long,min_lat,max_long,max_lat")
    return (nums[0], nums[1], nums[2], nums[3])


def _statuses(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    out: list[str] = []
    for s in (p.strip() for p in value.split(",")):
        if s == "open":
            out += OPEN_STATUSES
        elif s == "closed":
            out += CLOSED_STATUSES
        elif s in OPEN_STATUSES + CLOSED_STATUSES:
            out.append(s)
        else:
            raise BadInput(
                f"status must be open or closed (or {', '.join(OPEN_STATUSES + CLOSED_STATUSES)})"
                f"; got {s[:30]!r}"
            )
    return tuple(dict.fromkeys(out))


def _ids(value: str) -> tuple[int, ...]:
    try:
        ids = tuple(int(p) for p in value.split(",") if p.strip())
    except ValueError:
        raise BadInput("service_request_id must be comma-separated numbers") from None
    if len(ids) > MAX_PAGE_SIZE:
        raise BadInput(f"at most {MAX_PAGE_SIZE} service_request_id at once")
    return ids


@router.get("/services.{fmt}")
async def services(fmt: str, lang: str = "ru") -> Response:
    """The Open Almaty categories, each with the city service responsible."""
    return _answer(_format(fmt), "services", "service", georeport.services(_lang(lang)))


@router.get("/requests.{fmt}")
def list_requests(
    fmt: str,
    store: StoreDep,
    caller: CallerDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    bbox: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1)] = 50,
    lang: str = "ru",
) -> Response:
    """Appeals, newest first (authors never; points of sensitive categories only for staff,
    and for the public a ``bbox`` finds no appeal of a sensitive category)."""
    fmt, lang = _format(fmt), _lang(lang)
    if page_size > MAX_PAGE_SIZE:
        raise BadInput(f"page_size must be at most {MAX_PAGE_SIZE} (got {page_size})")
    if service_request_id:
        f = Filters(ids=_ids(service_request_id), page=1, page_size=MAX_PAGE_SIZE)
    else:
        start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
        if start is None and end is None:
            end = dt.datetime.now(dt.UTC).date()
        if start is None:
            assert end is not None
            start = end - dt.timedelta(days=MAX_RANGE_DAYS)
        if end is None:
            end = start + dt.timedelta(days=MAX_RANGE_DAYS)
        if end < start:
            raise BadInput("end_date is before start_date")
        if (end - start).days > MAX_RANGE_DAYS:
            raise BadInput(f"start_date to end_date may not span more than {MAX_RANGE_DAYS} days")
        codes = tuple(c.strip() for c in service_code.split(",")) if service_code else ()
        f = Filters(
            categories=codes,
            statuses=_statuses(status),
            start=start,
            end=end,
            bbox=_bbox(bbox),
            page=page,
            page_size=page_size,
        )
    exact = staff(caller)
    if f.bbox is not None and not exact:
        # a sensitive appeal's point is not public, so no box may find it: searched by boxes
        # (and X-Total-Count), it would be located exactly. Its record is still listed
        # without a box.
        f = replace(f, located_only=True)
    result = Appeals(store).search(f)
    records = [georeport.request(a, exact=exact, lang=lang) for a in result.appeals]
    headers = {"X-Total-Count": str(result.total)}
    return _answer(fmt, "service_requests", "request", records, headers=headers)


@router.get("/requests/{request_id}.{fmt}")
def get_request(
    request_id: int, fmt: str, store: StoreDep, caller: CallerDep, lang: str = "ru"
) -> Response:
    """One appeal (as a one-element list, as the spec has it)."""
    fmt, lang = _format(fmt), _lang(lang)
    appeals = Appeals(store)
    appeal = appeals.get(request_id)
    reason = None
    if appeal.status == "rejected":
        reason = next(
            (h.get("reason") for h in reversed(appeals.history(appeal)) if h.get("reason")), None
        )
    record = georeport.request(appeal, exact=staff(caller), lang=lang, reason=reason)
    return _answer(fmt, "service_requests", "request", [record])


async def _fields(request: Request) -> dict[str, Any]:
    """Return the POST's fields: a form (the spec's encoding; multipart may carry the photo
    as the file ``media``) or a JSON object. The text fields of a form are strings; ``media``
    is the photo's cleaned, stored :class:`~twin.photos.Photo`."""
    size = int(request.headers.get("content-length") or 0)
    kind = request.headers.get("content-type", "")
    limit = UPLOAD_BYTES if kind.startswith("multipart/form-data") else MAX_BODY_BYTES
    if size > limit:
        raise TooLarge(f"the request body is {size} bytes; at most {limit}")
    if kind.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise BadInput("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadInput("the JSON body must be an object")
        return body
    form = await request.form(max_files=1, max_fields=50)
    fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for name, value in form.items():
        if not isinstance(value, str):
            if name != "media":
                raise BadInput(f"{name}: only the photo (media) may be a file")
            fields["media"] = value
    return fields


def _number(fields: dict[str, Any], name: str) -> float:
    value = fields.get(name)
    if value is None or value == "":
        raise BadInput(f"{name} is required (the appeal's location)")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number (got {str(value)[:30]!r})") from None


def _opt_text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text")
    return value


@router.post("/requests.{fmt}")
@body_limit(UPLOAD_BYTES)
async def create_request(
    fmt: str, request: Request, store: StoreDep, caller: CallerDep
) -> Response:
    """File an appeal as the signed-in resident: ``service_code``, ``lat``, ``long``,
    ``description`` (and optionally ``address_string``, and a photo: ``media_url`` or, in a
    multipart form, the file ``media`` — JPEG, PNG or WebP, kept without its metadata and
    answered as our own ``media_url``). The answer carries
    ``service_notice`` naming open appeals of the same category within 50 m (the resident
    may join one instead), and their ids in ``x_duplicates`` — never for a sensitive
    category, whose points are not public."""
    fmt = _format(fmt)
    fields = await _fields(request)
    code = fields.get("service_code")
    if not isinstance(code, str) or not code:
        raise BadInput("service_code is required (services.json lists them)")
    lat, lon = _number(fields, "lat"), _number(fields, "long")
    media_url = _opt_text(fields, "media_url")
    photo = None
    if "media" in fields:
        if media_url:
            raise BadInput("send either media (a file) or media_url, not both")
        require_account(caller, "file an appeal")
        photo = await clean_upload(fields["media"], "media")
        media_url = public_base(request).rstrip("/") + photo.photo.url
    appeal, duplicates = Appeals(store).file(
        caller,
        service_code=code,
        lon=lon,
        lat=lat,
        description=_opt_text(fields, "description"),
        address=_opt_text(fields, "address_string"),
        media_url=media_url,
        # a media_url naming an earlier upload claims it; a media file is kept below
        photos=photo_store(request) if photo is None else None,
    )
    if photo is not None:  # written once the appeal is: a refused appeal leaves no file
        photo_store(request).keep(photo)
    notice = None
    if duplicates:
        ids = ", ".join(f"#{d.id}" for d in duplicates)
        notice = f"similar open appeal(s) within 50 m: {ids}; you may join one instead"
    record = {
        "service_request_id": str(appeal.id),
        "service_notice": notice,
        "account_id": None,
        "x_duplicates": ",".join(str(d.id) for d in duplicates),
    }
    return _answer(fmt, "service_requests", "request", [record], status_code=201)
