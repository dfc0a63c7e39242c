"""Residents' photos over HTTP on both stores: uploaded by a signed-in resident, served with
their content type and security headers, attached to an initiative, and sent with an Open311
appeal as the ``media`` file of a multipart form."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from tests.appeals.scene import LAT, LON, load_scene
from tests.photos import images
from tests.support.accounts import Resident, sign_up_resident
from tests.support.app import app_client
from twin.app import create_app
from twin.cli import app as cli
from twin.core.settings import ParticipationSettings, Settings, StoreSettings
from twin.photos.sweep import sweep
from twin.store import Store, open_store


def _files(data: bytes, name: str = "photo.jpg", kind: str = "image/jpeg") -> dict[str, object]:
    return {"photo": (name, data, kind)}


def test_upload_serve_and_attach_to_an_initiative(
    store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with app_client(store_url, photos_dir=tmp_path) as client:
        anna = sign_up_resident(client, caplog)
        r = client.post("/api/photos", files=_files(images.jpeg_with_gps()))
        assert r.status_code == 401 and "sign in" in r.json()["detail"]

        r = client.post("/api/photos", files=_files(images.jpeg_with_gps()), headers=anna.headers)
        assert r.status_code == 201, r.text
        photo = r.json()
        assert photo["content_type"] == "image/jpeg" and photo["url"].endswith(".jpg")

        served = client.get(photo["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
        assert not images.has_gps(served.content)
        assert Image.open(io.BytesIO(served.content)).size == (photo["width"], photo["height"])

        # a GIF named .png and declared image/png is still a GIF; a bomb is refused; neither
        # leaves a file
        before = sorted(tmp_path.rglob("*.*"))
        for data, problem in [
            (images.gif(), "not a JPEG, PNG or WebP"),
            (images.bomb(), "too many pixels"),
        ]:
            r = client.post(
                "/api/photos", files=_files(data, "x.png", "image/png"), headers=anna.headers
            )
            assert r.status_code == 400 and problem in r.json()["detail"], r.text
        assert sorted(tmp_path.rglob("*.*")) == before
        r = client.post("/api/photos", data={"photo": "text"}, headers=anna.headers)
        assert r.status_code == 400 and "multipart file field" in r.json()["detail"]
        r = client.post(
            "/api/photos", files=_files(b"\xff\xd8\xff" + b"x" * 9_000_000), headers=anna.headers
        )
        assert r.status_code == 413 and "over the limit" in r.json()["detail"]
        for bad in ["../secret", "0" * 64 + ".jpg", "x.svg"]:
            assert client.get(f"/api/photos/{bad}").status_code == 404

        body = {
            "category": "greenery",
            "title": "Сквер",
            "text": "Посадить деревья",
            "geometry": {"type": "Point", "coordinates": [76.95, 43.25]},
        }
        r = client.post(
            "/api/initiatives",
            json={**body, "photos": ["f" * 64 + ".jpg"]},
            headers=anna.headers,
        )
        assert r.status_code == 400 and "no uploaded photo" in r.json()["detail"]
        r = client.post(
            "/api/initiatives", json={**body, "photos": [photo["name"]]}, headers=anna.headers
        )
        assert r.status_code == 201, r.text
        iid = r.json()["initiative"]["id"]
        assert client.get(f"/api/initiatives/{iid}").json()["properties"]["photos"] == [
            photo["url"]
        ]
        listed = client.get("/api/initiatives").json()["features"]
        assert next(f for f in listed if f["id"] == iid)["properties"]["photos"] == [photo["url"]]


def test_an_open311_appeal_carries_a_media_file(
    store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(store_url)
    load_scene(store)
    store.close()
    with app_client(store_url, photos_dir=tmp_path) as client:
        anna = sign_up_resident(client, caplog)
        fields = {"service_code": "lighting", "lat": str(LAT), "long": str(LON)}
        media = {"media": ("lamp.jpg", images.jpeg_with_gps(), "image/jpeg")}
        url = "/open311/v2/requests.json"
        # a bad photo: the Open311 error shape, and neither an appeal nor a file
        r = client.post(
            url,
            data={**fields, "description": "x"},
            files={"media": ("lamp.jpg", images.gif(), "image/jpeg")},
            headers=anna.headers,
        )
        assert r.status_code == 400 and "media: not a JPEG" in r.json()[0]["description"]
        # a refused appeal (no text) keeps no photo either
        r = client.post(url, data={**fields, "description": ""}, files=media, headers=anna.headers)
        assert r.status_code == 400, r.text
        assert not any(tmp_path.rglob("*.*"))
        r = client.post(
            url,
            data={**fields, "description": "x", "media_url": "https://example.org/a.jpg"},
            files=media,
            headers=anna.headers,
        )
        assert r.status_code == 400 and "not both" in r.json()[0]["description"]

        r = client.post(
            url,
            data={**fields, "description": "Фонарь не горит"},
            files=media,
            headers=anna.headers,
        )
        assert r.status_code == 201, r.text
        rid = r.json()[0]["service_request_id"]
        (got,) = client.get(f"/open311/v2/requests/{rid}.json").json()
        assert got["media_url"].startswith("http://testserver/api/photos/")
        photo = client.get(got["media_url"].removeprefix("http://testserver"))
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert not images.has_gps(photo.content)


def _upload(client: TestClient, who: Resident, seed: int) -> str:
    r = client.post(
        "/api/photos", files=_files(images.small_jpeg(seed), "p.jpg"), headers=who.headers
    )
    assert r.status_code == 201, r.text
    name: str = r.json()["name"]
    return name


def _appeal_naming(client: TestClient, who: Resident, name: str) -> httpx.Response:
    """File an Open311 appeal whose media_url names the upload ``name``."""
    return client.post(
        "/open311/v2/requests.json",
        json={
            "service_code": "lighting",
            "lat": LAT,
            "long": LON,
            "description": "Фонарь",
            "media_url": f"http://testserver/api/photos/{name}",
        },
        headers=who.headers,
    )


def _age(store: Store, names: list[str], hours: float) -> None:
    """Make the uploads of ``names`` look ``hours`` old."""
    uploads = store.metadata.tables["photo_uploads"]
    with store.domain_transaction() as conn:
        n = conn.execute(
            uploads.update()
            .where(uploads.c.name.in_(names))
            .values(uploaded_at=time.time() - hours * 3600)
        ).rowcount
    assert n == len(names)


def _pending(store: Store) -> set[str]:
    uploads = store.metadata.tables["photo_uploads"]
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(uploads.c.name)).scalars())


def test_unattached_photos_are_swept_file_and_row(
    store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(store_url)
    load_scene(store)
    store.close()
    with app_client(store_url, photos_dir=tmp_path) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        photos = client.app.state.photos  # type: ignore[attr-defined]
        anna = sign_up_resident(client, caplog)
        lone, on_initiative, on_appeal, fresh, late = (_upload(client, anna, i) for i in range(5))
        assert _pending(store) == {lone, on_initiative, on_appeal, fresh, late}
        r = client.post(
            "/api/initiatives",
            json={
                "category": "greenery",
                "title": "Сквер",
                "text": "Посадить деревья",
                "geometry": {"type": "Point", "coordinates": [76.95, 43.25]},
                "photos": [on_initiative],
            },
            headers=anna.headers,
        )
        assert r.status_code == 201, r.text
        assert on_initiative not in _pending(store)  # attaching claims the upload
        r = _appeal_naming(client, anna, on_appeal)
        assert r.status_code == 201, r.text
        assert on_appeal not in _pending(store)  # an appeal naming our upload claims it too
        # the same photo as the initiative's, uploaded again and never used: only its row goes
        assert _upload(client, anna, 1) == on_initiative
        _age(store, [lone, on_initiative, late], 25)

        done = sweep(store, photos, hours=24)
        assert sorted(done.deleted) == sorted([lone, late]) and done.attached == 1
        for gone in (lone, late):
            assert client.get(f"/api/photos/{gone}").status_code == 404
            assert not any(tmp_path.rglob(gone))
        for kept in (on_initiative, on_appeal, fresh):
            assert client.get(f"/api/photos/{kept}").status_code == 200
        assert _pending(store) == {fresh}  # the young one waits for its day
        assert sweep(store, photos, hours=24).deleted == []  # nothing left to do

        # a resident who kept the name of a swept photo is told it is gone
        r = client.post(
            "/api/initiatives",
            json={
                "category": "greenery",
                "title": "Ещё сквер",
                "text": "Деревья",
                "geometry": {"type": "Point", "coordinates": [76.96, 43.26]},
                "photos": [late],
            },
            headers=anna.headers,
        )
        assert r.status_code == 400 and "no uploaded photo" in r.json()["detail"], r.text
        # and so is an appeal naming it by URL: no appeal is filed
        before = len(client.get("/open311/v2/requests.json").json())
        r = _appeal_naming(client, anna, late)
        assert r.status_code == 400 and "no uploaded photo" in r.text, r.text
        assert "media_url" in r.text
        assert len(client.get("/open311/v2/requests.json").json()) == before


def test_the_server_and_the_command_sweep(
    store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        store=StoreSettings(database_url=store_url),
        photos_dir=tmp_path,
        participation=ParticipationSettings(photo_sweep_s=0.05),
    )
    with TestClient(create_app(settings)) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        anna = sign_up_resident(client, caplog)
        old, young = _upload(client, anna, 7), _upload(client, anna, 8)
        _age(store, [old], 25)
        # the server's own sweep (every 0.05 s here) takes the old upload and not the young
        deadline = time.monotonic() + 30
        while client.get(f"/api/photos/{old}").status_code == 200:
            assert time.monotonic() < deadline, "the server never swept the old upload"
            time.sleep(0.05)
        assert _pending(store) == {young}
        assert client.get(f"/api/photos/{young}").status_code == 200

    store = open_store(store_url)
    try:
        _age(store, [young], 2)
    finally:
        store.close()
    env = {"TWIN_DATABASE_URL": store_url, "TWIN_PHOTOS_DIR": str(tmp_path)}
    ran = CliRunner().invoke(cli, ["photos", "sweep", "--hours", "1"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "1 unattached photos older than 1 h deleted" in ran.output
    assert not any(tmp_path.rglob(young))
    bad = CliRunner().invoke(cli, ["photos", "sweep", "--hours", "0"], env=env)
    assert bad.exit_code != 0 and "hours" in bad.output
