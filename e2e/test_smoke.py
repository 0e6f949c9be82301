"""The demo serves, and each role signs in to its own first screen."""

from playwright.sync_api import expect

from e2e.helpers import login


def test_ber_signs_in_to_planning(page):
    login(page, "ber011@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planifier les activités des IPCSR")
    expect(page.get_by_test_id("user-name")).to_contain_text("Thibault CARPENTIER")


def test_ae_signs_in_to_its_exams(page):
    login(page, "alliance@example.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes examens programmés")
