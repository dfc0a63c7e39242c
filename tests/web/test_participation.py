"""A resident takes part on the map: signs up (the code read from the server log), rates a
work and writes a review with markup in it, likes it, and proposes an initiative by clicking
the map; a second browser's map shows the new aggregate and the initiative without a reload
(the live stream), and the review's markup is shown as text, never run."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.photos import images
from tests.support.accounts import code_from_log
from tests.web.conftest import Known, Session

HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script> ok'


def _open_work(s: Session, w: Known) -> str:
    """Click the work and return the fid of the card that opened (a smaller work drawn over
    the known one may take the click: any work will do)."""
    s.open(f"#map=17.00/{w.lat:.6f}/{w.lon:.6f}&layers=works")
    s.click_lnglat(w.lon, w.lat)
    card = s.page.locator("#card")
    card.wait_for(state="visible")
    assert card.get_attribute("data-layer") == "works"
    s.page.wait_for_selector("#rate-summary")
    fid: str = card.get_attribute("data-fid") or ""
    return fid


def _count(s: Session) -> str | None:
    value: str | None = s.page.locator("#rate-summary").get_attribute("data-count")
    return value


def test_a_resident_signs_up_rates_and_proposes_live(
    make_session: Any, known: dict[str, Known], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="twin.accounts")
    w = known["work"]
    alice, bob = make_session(), make_session()
    fid = _open_work(bob, w)
    before = int(_count(bob) or 0)

    page = alice.page
    assert _open_work(alice, w) == fid
    page.click("#account-toggle")
    page.get_by_role("button", name="Создать аккаунт").click()
    page.fill("#p-login", "alia.web@example.kz")
    page.fill("#p-password", "a long web password")
    page.fill("#p-name", "Алия")
    page.click("#signup")
    page.wait_for_selector("#p-code")
    page.fill("#p-code", code_from_log(caplog, "alia.web@example.kz"))
    page.get_by_role("button", name="Подтвердить").click()
    page.wait_for_selector("#signout")
    assert page.locator("#account-toggle").inner_text() == "Алия"

    # rate 4 stars: the card's aggregate counts it, and so does Bob's map, without a reload
    page.click('#card button[data-stars="4"]')
    page.wait_for_function(
        f"document.querySelector('#rate-summary').dataset.count === '{before + 1}'"
    )
    bob.page.wait_for_function(
        f"document.querySelector('#rate-summary')?.dataset.count === '{before + 1}'", timeout=10000
    )
    # Bob colours the works by rating: the work's feature state follows Alice's ratings live
    bob.page.click("#account-toggle")
    bob.page.check("#p-by-rating")
    state = (
        "(() => { const m = twin.map; const id = twin.entries.find(e => e.id === 'works')"
        ".styleLayers.find(i => m.getLayer(i).type === 'fill'); const l = m.getLayer(id); "
        f"return m.getFeatureState({{source: l.source, sourceLayer: l.sourceLayer, id: {fid}}})"
        ".rating; })()"
    )
    mean = float(page.locator("#rate-summary").get_attribute("data-mean") or 0)
    bob.page.wait_for_function(f"Math.abs({state} - {mean}) < 0.01", timeout=10000)
    # 4 -> 2 stars moves the mean by -2/count; compared as numbers ("4" in the page is 4.0 here:
    # a string comparison passed at once and read the old mean before the answer came)
    expected = mean - 2 / (before + 1)
    page.click('#card button[data-stars="2"]')
    page.wait_for_function(
        "Math.abs(Number(document.querySelector('#rate-summary').dataset.mean)"
        f" - {expected}) < 0.01"
    )
    mean = float(page.locator("#rate-summary").get_attribute("data-mean") or 0)
    bob.page.wait_for_function(f"Math.abs({state} - {mean}) < 0.01", timeout=10000)
    page.fill("#rate-review", HOSTILE)
    page.click("#rate-send")
    review = page.locator(".reviews li p", has_text="window.pwned")
    review.first.wait_for()
    assert review.first.inner_text() == HOSTILE
    bob.page.locator(".reviews li p", has_text="window.pwned").first.wait_for(timeout=10000)
    for s in (alice, bob):
        assert s.page.evaluate("window.pwned") is None
        assert s.page.locator(".reviews img, .reviews script").count() == 0
    page.click("#react-like")
    page.wait_for_selector('#react-like[aria-pressed="true"]')

    # propose an initiative by clicking the map; Bob's map gets it live
    page.click("#account-toggle") if page.locator("#account-box").is_hidden() else None
    page.click("#propose")
    alice.click_lnglat(w.lon, w.lat)
    page.wait_for_selector("#propose-form")
    page.select_option("#p-category", "lighting")
    page.fill("#p-title", "Фонари <b>во дворе</b>")
    page.fill("#p-text", "Темно вечером")
    # with a phone photo carrying its GPS position: shown on the card, served without it
    page.set_input_files(
        "#p-photo",
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg_with_gps()},
    )
    page.get_by_role("button", name="Опубликовать").click()
    page.locator('#card[data-layer="initiative"]').wait_for()
    assert page.locator("#card-title").inner_text() == "Фонари <b>во дворе</b>"
    page.wait_for_function("document.querySelector('#card img.photo')?.naturalWidth === 32")
    src = page.evaluate("document.querySelector('#card img.photo').src")
    served = page.request.get(src)
    assert served.headers["content-type"] == "image/jpeg"
    assert not images.has_gps(served.body())
    bob.page.wait_for_function(
        "twin.map.getSource('twin-initiatives').serialize().data.features"
        ".some(f => f.properties.title === 'Фонари <b>во дворе</b>')",
        timeout=10000,
    )
    assert alice.console_errors == [] and bob.console_errors == []
    assert alice.foreign_hosts() == set()
