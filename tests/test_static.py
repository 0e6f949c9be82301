"""Static files: versioned URLs cached for a year, gzip, revalidation, only the icons in use."""

from __future__ import annotations

import gzip
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import dsfr_icons  # noqa: E402


def _static_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_static_files_under_their_content_hash(client):
    links = _static_links(client.get("/connexion").get_data(as_text=True))
    assert links, "the login page links its stylesheets and scripts"
    for link in links:
        path, _, query = link.partition("?")
        digest = hashlib.sha256((ROOT / path.lstrip("/")).read_bytes()).hexdigest()
        assert query == f"v={digest[:12]}", link


def test_a_versioned_stylesheet_is_gzipped_and_cached_for_a_year(client):
    link = next(u for u in _static_links(client.get("/connexion").get_data(as_text=True))
                if "dsfr.min.css" in u)
    response = client.get(link, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in response.headers["Vary"]
    original = (ROOT / "static/vendor/dsfr-1.15.3/dsfr.min.css").read_bytes()
    assert gzip.decompress(response.data) == original
    assert len(response.data) < len(original) / 5


def test_an_unversioned_or_stale_url_is_revalidated(client):
    for url in ("/static/app.css", "/static/app.css?v=0123456789ab"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_fonts_and_icons_of_the_vendored_dsfr_are_immutable(client):
    response = client.get("/static/vendor/dsfr-1.15.3/icons/system/check-line.svg")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]


def test_only_the_icons_in_use_are_shipped_and_each_has_its_rule(client):
    html = client.get("/connexion").get_data(as_text=True)
    assert "icons.min.css" not in html and "dsfr-icons.css" in html
    css = (ROOT / "static/dsfr-icons.css").read_text()
    missing = [icon for icon in sorted(dsfr_icons.used_icons()) if f".{icon}:" not in css]
    assert missing == [], f"run `make icons`: no rule for {missing}"
    assert css == dsfr_icons.build(dsfr_icons.used_icons()), "run `make icons`"
    assert len(css) < 10_000
