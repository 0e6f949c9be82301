"""Request-side helpers shared by every blueprint, the app's one htmx response vocabulary:
full page or block (``render``), several blocks (``blocks``), a banner (``Banner``,
``banner_html``), pieces of a page with an out-of-band banner and closed dialog
(``fragments``), a refusal or a done change shown in the banner alone (``banner_only``), a
dialog that is the whole page on a direct visit (``dialog``), ids in URLs, the answer to a
committed change. Scoped loads live in rdvpl/scopes.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import Response, current_app, render_template, request
from htmx_flask import make_response
from jinja2_fragments.flask import render_block, render_blocks
from markupsafe import Markup
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from .extensions import db
from .models import as_id


def wants_fragment() -> bool:
    """True for an htmx request that expects a piece of the page, not the whole page."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(template: str, block: str | None = None, *, status: int = 200, **context) -> Response:
    """Render the page, or only ``block`` of it for an htmx request (jinja2-fragments)."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def blocks(template: str, names: list[str], *, status: int = 200, **context) -> Response:
    """Several blocks of one template in one response (the first in place, the rest
    out-of-band: each carries its own ``hx-swap-oob``)."""
    return make_response(render_blocks(template, names, **context), status)


class Banner(NamedTuple):
    """What #banner says: ``kind`` is success, error, info or warning. Templates read
    ``banner.kind``, ``banner.title``, ``banner.message``."""

    kind: str
    title: str
    message: str


def banner_html(banner: Banner, *, oob: bool = True) -> str:
    """The DSFR alert shown in #banner (out-of-band unless ``oob`` is False: then it is the
    content the request targets)."""
    kind, title, message = banner
    return render_template(
        "partials/_banner.html", kind=kind, title=title, message=message, oob=oob
    )


# Empties the dialog container out-of-band: the one way a response closes a dialog.
CLOSE_DIALOG_OOB = '<div id="dialog" hx-swap-oob="innerHTML"></div>'


def fragments(*parts: str, banner: Banner | None = None, close_dialog: bool = False,
              status: int = 200) -> Response:
    """An htmx answer made of ``parts`` (the first swapped into the request's target, the
    others out-of-band), then the emptied dialog and the banner out-of-band."""
    body = list(parts)
    if close_dialog:
        body.append(CLOSE_DIALOG_OOB)
    if banner is not None:
        body.append(banner_html(banner))
    return make_response("\n".join(body), status)


def banner_only(banner: Banner, status: int) -> Response:
    """For htmx: the banner alone, swapped into #banner whatever the request targeted (the
    target is left as it is) and scrolled into view; an open dialog is closed so that it does
    not hide the message."""
    response = make_response(banner_html(banner, oob=False) + CLOSE_DIALOG_OOB, status,
                             retarget="#banner")
    # htmx-flask 0.1.0 refuses swap modifiers such as "show:" (and some plain values).
    response.headers["HX-Reswap"] = "innerHTML show:#banner:top"
    return response


def dialog(template: str, page: Callable[..., Response], **context) -> Response:
    """A dialog: alone for htmx; on a direct visit of its URL, ``page(dialog_html=...)``, the
    screen behind it with the dialog open in its ``dialog`` block."""
    html = render_template(template, **context)
    if wants_fragment():
        return make_response(html)
    return page(dialog_html=Markup(html))


def error_response(message: str, *, title: str = "Erreur", status: int = 422) -> Response:
    """A refusal: for htmx only the banner is swapped, an open dialog closed; the error page
    otherwise."""
    if wants_fragment():
        return banner_only(Banner("error", title, message), status)
    return make_response(
        render_template("error.html", title=title, message=message), status
    )


def parse_int(value) -> int | None:
    """An id from a form or query value (surrounding blanks ignored), None for anything else:
    tampered fields, negative numbers, numbers beyond the database's INTEGER."""
    return as_id(value.strip() if isinstance(value, str) else value)


class IdConverter(BaseConverter):
    """``<id:name>`` in a URL: a primary key the database can hold. Anything else (0, a number
    beyond INTEGER, other digits than 0-9) is the usual 404 instead of a database error
    (PostgreSQL refuses an out-of-range parameter)."""

    regex = r"[0-9]+"
    weight = 50

    def to_python(self, value: str) -> int:
        number = as_id(value)
        if number is None:
            # NotFound, not ValidationError: Werkzeug would answer 405 for a POST whose URL
            # also has a GET rule (it saw the GET rule's methods before converting).
            raise NotFound()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def committed(render_view: Callable[[], Response], banner: Banner) -> Response:
    """The answer to a change that is already committed: ``render_view()`` (the refreshed view
    with its banner), or, if rendering it fails, the banner alone. The change is made, so the
    answer must never read as an error (nor say that nothing was changed)."""
    try:
        return render_view()
    except Exception:
        current_app.logger.exception("the view after a committed change failed to render")
        db.session.rollback()
    banner = banner._replace(
        message=f"{banner.message} Rechargez la page pour afficher la situation à jour.")
    if wants_fragment():
        return banner_only(banner, 200)
    try:
        return make_response(render_template("done.html", kind=banner.kind, title=banner.title,
                                             message=banner.message), 200)
    except Exception:
        current_app.logger.exception("the page saying a change was made failed to render")
        return make_response(banner_html(banner, oob=False), 200)
