""""Mon agenda" (AE 4): the page of the school's private feed link, and the feed itself.

The page and "Générer un nouveau lien" are the signed-in school's (no id in the URL: always its
own feed). The feed URL is public (calendar apps send no cookie): its secret token is the key,
an unknown or revoked one is a 404. It is rate-limited per link, and per address for the
unknown tokens it answered 404 (someone guessing links).
"""

from __future__ import annotations

import hashlib

from flask import make_response, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .. import agenda, dates
from ..access import public
from ..errors import NotFound
from ..extensions import db, limiter
from ..models import AutoEcole
from ..web import Banner, fragments, render, wants_fragment
from . import bp

PAGE = "ae/agenda.html"
FEED_LIMIT = "60 per hour"  # per link: calendar apps poll every few minutes at most
GUESS_LIMIT = "30 per hour"  # per address, 404s only


def _page(banner: Banner | None = None, **context):
    """The page, or for htmx its block "agenda" and the banner out-of-band."""
    school = db.session.get(AutoEcole, current_user.auto_ecole_id)
    if banner is not None and wants_fragment():
        return fragments(render_block(PAGE, "agenda", school=school, **context), banner=banner)
    return render(PAGE, "agenda", school=school, banner=banner, **context)


@bp.route("/agenda")
def agenda_page():
    """Mon agenda (AE 4): whether a feed link is live, and "Générer un nouveau lien"."""
    return _page()


@bp.route("/agenda/lien", methods=["POST"])
def new_agenda_link():
    """Générer un nouveau lien: the old link stops working; the new one is shown this once."""
    token = agenda.new_feed_link(current_user._get_current_object())
    url = url_for("ae.agenda_feed", feed_token=token, _external=True)
    banner = Banner("success", "Nouveau lien généré !",
                    "Abonnez votre agenda à ce lien. L'ancien lien, s'il y en avait un, ne "
                    "fonctionne plus.")
    return _page(feed_url=url, banner=banner)


def _feed_key() -> str:
    token = (request.view_args or {}).get("feed_token") or ""
    return "agenda:" + hashlib.sha256(token.encode()).hexdigest()


def _unknown(response) -> bool:
    return response.status_code == 404


@bp.route("/agenda/flux/<feed_token>.ics")
@public
@limiter.limit(FEED_LIMIT, key_func=_feed_key)
@limiter.limit(GUESS_LIMIT, deduct_when=_unknown)
def agenda_feed(feed_token: str):
    """The school's upcoming PL exams as text/calendar, for calendar apps (no session)."""
    school = agenda.school_for_token(feed_token)
    if school is None:
        raise NotFound("Ce lien d'agenda n'existe pas ou a été remplacé par un nouveau lien.")
    response = make_response(agenda.feed_text(school, dates.today()))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="examens-pl.ics"'
    response.headers["X-Robots-Tag"] = "noindex"
    return response
