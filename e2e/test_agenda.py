""""Mon agenda" (AE 4) in Chromium: the school generates its feed link, a calendar app (a
request context with no cookie) reads the feed, a new link revokes the old one at once."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.helpers import login


def _generate(page) -> str:
    page.get_by_role("button", name="Générer un nouveau lien").click()
    expect(page.get_by_test_id("banner")).to_contain_text("Nouveau lien généré !")
    field = page.get_by_label("Votre lien d'agenda")
    expect(field).to_have_value(re.compile(r"/ae/agenda/flux/.+\.ics$"))
    return field.input_value()


def test_generate_fetch_and_regenerate_the_feed_link(new_page, browser, demo_db):
    page = new_page()
    login(page, "alliance@example.test")
    page.get_by_role("link", name="Mon agenda").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon agenda")
    expect(page.get_by_test_id("feed-status")).to_have_text(
        "Vous n'avez pas encore de lien d'agenda.")
    old = _generate(page)

    # The browser's own context can read it...
    response = page.request.get(old)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.text().startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" in response.text()  # the demo's upcoming exams of Alliance
    # ...and so can a calendar app, which has no session cookie.
    app_context = browser.new_context(base_url=demo_db)
    try:
        assert app_context.request.get(old).status == 200

        page.reload()  # shown once: afterwards the page only says a link is live
        expect(page.get_by_test_id("feed-status")).to_contain_text(
            "Un lien d'agenda est actif depuis le")
        expect(page.get_by_label("Votre lien d'agenda")).to_have_count(0)

        new = _generate(page)
        assert new != old
        assert app_context.request.get(old).status == 404
        assert app_context.request.get(new).status == 200
    finally:
        app_context.close()
