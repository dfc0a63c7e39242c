"""The Open311 GeoReport v2 shape of the catalog and of appeals (JSON documents and their XML).

Field names are the spec's (https://wiki.open311.org/GeoReport_v2): a service has
``service_code, service_name, description, metadata, type, keywords, group``; a request has
``service_request_id, status, status_notes, service_name, service_code, description,
agency_responsible, service_notice, requested_datetime, updated_datetime, expected_datetime,
address, address_id, zipcode, lat, long, media_url``. Our own additions carry an ``x_`` prefix
(the lifecycle status, district, rating, residents following, synthetic flag).

What the public sees: never the author (no account, name, e-mail or phone is ever stored in a
request's answer); for a *sensitive* category neither the point, the address, the text nor the
photo — only the category, status, dates, service and district (its appeals are shown on the
map only as aggregated counts). Staff (planner, admin) see exact points of every category.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from layers.appeal_services import CATEGORIES, SERVICES
from twin.appeals.catalog import category, open311_status
from twin.appeals.service import Appeal

_SERVICE_NAME = {s.code: s for s in SERVICES}


def services(lang: str = "ru") -> list[dict[str, Any]]:
    """Return the GeoReport v2 service list: one per appeal category, in catalog order."""
    out = []
    for c in CATEGORIES:
        agency = _SERVICE_NAME[c.service]
        out.append(
            {
                "service_code": c.code,
                "service_name": c.title.get(lang),
                "description": f"{c.title.get(lang)} — {agency.title.get(lang)}",
                "metadata": False,
                "type": "realtime",
                "keywords": ",".join(c.keywords),
                "group": agency.title.get(lang),
                "x_agency_code": agency.code,
                "x_deadline_days": c.deadline_days,
                "x_sensitive": c.sensitive,
            }
        )
    return out


def _status_notes(appeal: Appeal, reason: str | None) -> str | None:
    status = appeal.status
    if status == "rejected":
        return f"rejected: {reason}" if reason else "rejected"
    return status.replace("_", " ")


def request(
    appeal: Appeal,
    *,
    exact: bool,
    lang: str = "ru",
    reason: str | None = None,
) -> dict[str, Any]:
    """Return the GeoReport v2 request of ``appeal``; ``exact`` is for staff (points and text
    of sensitive categories too)."""
    cat = category(appeal.category)
    p = appeal.props
    agency = _SERVICE_NAME.get(p.get("service") or cat.service, _SERVICE_NAME[cat.service])
    hidden = cat.sensitive and not exact
    details = appeal.details or {}
    requested = details.get("requested_at") or f"{p['created_on']}T00:00:00Z"
    dates = [p.get(k) for k in ("created_on", "assigned_on", "started_on", "resolved_on")]
    last_day = max(d for d in dates if d)
    updated = details.get("updated_at") or f"{last_day}T00:00:00Z"
    return {
        "service_request_id": str(appeal.id),
        "status": open311_status(appeal.status),
        "status_notes": _status_notes(appeal, reason),
        "service_name": cat.title.get(lang),
        "service_code": cat.code,
        "description": None if hidden else details.get("description"),
        "agency_responsible": agency.title.get(lang),
        "service_notice": None,
        "requested_datetime": requested,
        "updated_datetime": updated,
        "expected_datetime": f"{p['deadline_on']}T23:59:59Z" if p.get("deadline_on") else None,
        "address": None if hidden else details.get("address"),
        "address_id": None,
        "zipcode": None,
        "lat": None if hidden else round(appeal.lat, 7),
        "long": None if hidden else round(appeal.lon, 7),
        "media_url": None if hidden else details.get("media_url"),
        "x_status": appeal.status,
        "x_district": p.get("district"),
        "x_agency_code": agency.code,
        "x_satisfaction": p.get("satisfaction"),
        "x_followers": appeal.followers,
        "x_sensitive": cat.sensitive,
        "synthetic": appeal.synthetic,
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def to_xml(root: str, item: str, records: list[dict[str, Any]]) -> bytes:
    """Return ``records`` as the spec's XML (``<services><service>…`` or
    ``<service_requests><request>…``)."""
    top = ET.Element(root)
    for rec in records:
        el = ET.SubElement(top, item)
        for key, value in rec.items():
            ET.SubElement(el, key).text = _text(value)
    body: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return body


def errors_xml(status: int, description: str) -> bytes:
    """Return the spec's XML error document."""
    top = ET.Element("errors")
    err = ET.SubElement(top, "error")
    ET.SubElement(err, "code").text = str(status)
    ET.SubElement(err, "description").text = description
    body: bytes = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return body
