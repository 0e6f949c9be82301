"""Request-side helpers shared by every blueprint: full page or block, banners, ids in URLs,
the answer to a committed change. Scoped loads live in rdvpl/scopes.py."""

from __future__ import annotations

from flask import current_app, make_response, render_template, request
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from .extensions import db
from .models import as_id


def wants_fragment() -> bool:
    """True for an htmx request that expects a piece of the page, not the whole page."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(template: str, block: str | None = None, *, status: int = 200, **context):
    """Render the page, or only ``block`` of it for an htmx request (jinja2-fragments)."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def render_blocks(template: str, blocks: list[str], *, status: int = 200, **context):
    """Several blocks of one template in one response (the first in place, the rest out-of-band)."""
    body = "\n".join(render_block(template, b, **context) for b in blocks)
    return make_response(body, status)


def banner_html(kind: str, title: str, message: str, *, oob: bool = True) -> str:
    """The DSFR alert shown in #banner. ``kind`` is success, error, info or warning."""
    return render_template(
        "partials/_banner.html", kind=kind, title=title, message=message, oob=oob
    )


CLOSE_DIALOG_OOB = '<div id="dialog" hx-swap-oob="innerHTML"></div>'


def with_banner(response, kind: str, title: str, message: str):
    """Append an out-of-band banner to an htmx response."""
    response.set_data(response.get_data(as_text=True) + banner_html(kind, title, message))
    return response


def error_response(message: str, *, title: str = "Erreur", status: int = 422):
    """A refusal: for htmx only the banner is swapped (the target is left as it is), scrolled
    into view, and an open dialog is closed so that it does not hide the message."""
    if wants_fragment():
        body = banner_html("error", title, message, oob=False) + CLOSE_DIALOG_OOB
        response = make_response(body, status)
        response.headers["HX-Retarget"] = "#banner"
        response.headers["HX-Reswap"] = "innerHTML show:#banner:top"
        return response
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


def committed(render_view, kind: str, title: str, message: str):
    """The answer to a change that is already committed: ``render_view()`` (the refreshed view
    with its banner), or, if rendering it fails, the banner alone. The change is made, so the
    answer must never read as an error (nor say that nothing was changed)."""
    try:
        return render_view()
    except Exception:
        current_app.logger.exception("the view after a committed change failed to render")
        db.session.rollback()
    message = f"{message} Rechargez la page pour afficher la situation à jour."
    if wants_fragment():
        body = banner_html(kind, title, message, oob=False) + CLOSE_DIALOG_OOB
        response = make_response(body, 200)
        response.headers["HX-Retarget"] = "#banner"
        response.headers["HX-Reswap"] = "innerHTML show:#banner:top"
        return response
    try:
        return make_response(render_template("done.html", kind=kind, title=title,
                                             message=message), 200)
    except Exception:
        current_app.logger.exception("the page saying a change was made failed to render")
        return make_response(banner_html(kind, title, message, oob=False), 200)
