"""BER "Recopier cette semaine" (BER 8) and "Importer un planning" (BER 9).

Copy: a dialog over the planning page (GET: the preview, changes nothing; POST: "Recopier").
Import: its own page, /ber/planification/import — the upload gives the per-cell preview; the
parsed file then travels in a signed, timed token (never a path or a file kept on the server),
and "Importer N session(s)" posts it back. Both confirmations are re-validated by the domain
(rdvpl/planning_bulk.py): a stale preview is shown again, nothing applied.
"""

from __future__ import annotations

import datetime as dt
import zlib

from flask import current_app, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .. import dates
from ..errors import DomainError
from ..extensions import db
from ..planning_bulk import (
    COPY_MAX_WEEKS,
    PreviewChanged,
    copy_preview,
    copy_week,
    import_planning,
    import_preview,
)
from ..web import Banner, committed, dialog, fragments, parse_int, render, wants_fragment
from ..xlsx_import import MAX_BYTES, ParsedPlanning, read_planning
from . import bp
from .routes_planning import TEMPLATE, _context, _filters

COPY_DIALOG = "dialogs/_copy_week.html"


def _copy_weeks(form) -> int:
    weeks = parse_int(form.get("semaines"))
    if weeks is None or weeks > COPY_MAX_WEEKS:
        raise DomainError(f"Choisissez de 1 à {COPY_MAX_WEEKS} semaines suivantes.")
    return weeks


def _copy_filters(form):
    f = _filters(form)
    if f.date_error:
        raise DomainError(dates.date_error(form.get("date", ""), "."))
    return f


@bp.route("/planification/recopie")
def planning_copy():
    """The preview dialog of "Recopier cette semaine" (a direct visit: the week, dialog open)."""
    f = _copy_filters(request.args)
    weeks = _copy_weeks(request.args)
    preview = copy_preview(current_user, f.day, weeks, search=f.search)
    return dialog(COPY_DIALOG, lambda **extra: render(TEMPLATE, **extra, **_context(f)),
                  preview=preview, f=f, weeks=weeks, monday=f.monday,
                  saturday=f.monday + dt.timedelta(days=5))


@bp.route("/planification/recopie", methods=["POST"], endpoint="planning_copy_apply")
def planning_copy_apply():
    """"Recopier": every session of the preview in one transaction, or the new preview."""
    f = _copy_filters(request.form)
    weeks = _copy_weeks(request.form)
    try:
        result = copy_week(current_user, f.day, weeks, request.form.get("apercu"),
                           search=f.search)
    except PreviewChanged as changed:
        db.session.rollback()  # nothing was written: the write lock goes before rendering
        html = render_template(COPY_DIALOG, preview=changed.preview, f=f, weeks=weeks,
                               monday=f.monday, saturday=f.monday + dt.timedelta(days=5),
                               changed=changed)
        if wants_fragment():
            response = fragments(html, status=409)
            response.headers["HX-Retarget"] = "#dialog"
            response.headers["HX-Reswap"] = "innerHTML"
            return response
        return render(TEMPLATE, status=409, dialog_html=html, **_context(f))
    done = Banner("success", "Succès", f"{result.count} session(s) recopiée(s) sur les semaines "
                  f"du {dates.ddmmyyyy(result.first)} au {dates.ddmmyyyy(result.last)}.")

    def view():
        if wants_fragment():
            return fragments(banner=done, close_dialog=True)
        return render(TEMPLATE, banner=done, **_context(f))

    return committed(view, done)


# ---------------------------------------------------------------------------------------------
# Importer un planning (BER 9)
# ---------------------------------------------------------------------------------------------

IMPORT = "ber/import.html"
TOKEN_SALT = "rdvpl-planning-import"
TOKEN_MAX_AGE = 2 * 3600  # seconds: an afternoon's preview, not a week-old one
EXPIRED = ("L'aperçu a expiré ou n'est pas valide : importez à nouveau le fichier. "
           "Aucune session n'a été planifiée.")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)


def import_token(user_id: int, parsed: ParsedPlanning, name: str, digest: str) -> str:
    """The parsed file, its name and the preview's digest, signed for one agent (inside an
    application context: the app's secret key signs it)."""
    return _serializer().dumps({"u": user_id, "n": name, "d": digest, "p": parsed.to_json()})


def _token(parsed: ParsedPlanning, name: str, digest: str) -> str:
    return import_token(current_user.id, parsed, name, digest)


def _untoken(token: str | None) -> tuple[ParsedPlanning, str, str]:
    try:
        data = _serializer().loads(token or "", max_age=TOKEN_MAX_AGE)
        if data.get("u") != current_user.id:
            raise BadSignature("another agent's token")
        return ParsedPlanning.from_json(data["p"]), str(data["n"]), str(data["d"])
    except (BadSignature, ValueError, KeyError, TypeError, AttributeError, zlib.error):
        raise DomainError(EXPIRED) from None


def _planning_link(preview) -> str | None:
    if preview is None or preview.first is None:
        return None
    return url_for("ber.planning", date=dates.ddmmyyyy(preview.first))


def _import_page(*, status: int = 200, banner: Banner | None = None, preview=None,
                 token: str | None = None, name: str = "", done_link: str | None = None):
    return render(IMPORT, status=status, banner=banner, preview=preview, token=token,
                  name=name, max_mb=MAX_BYTES // (1024 * 1024),
                  planning_link=done_link or _planning_link(preview))


@bp.route("/planification/import")
def planning_import():
    """Importer un planning: the upload form."""
    return _import_page()


@bp.route("/planification/import", methods=["POST"], endpoint="planning_import_preview")
def planning_import_preview():
    """The uploaded file read (nothing kept on the server) and its per-cell preview."""
    # Over 5 MB is refused below with its own words; a far larger body is cut short (413).
    request.max_content_length = MAX_BYTES + 1024 * 1024
    upload = request.files.get("fichier")
    if upload is None or not upload.filename:
        raise DomainError("Choisissez le fichier .xlsx du planning à importer.")
    data = upload.stream.read(MAX_BYTES + 1)
    name = upload.filename
    try:
        parsed = read_planning(data, name)
    except DomainError as error:  # the page again, its form ready for another file
        return _import_page(status=error.status_code,
                            banner=Banner("error", "Fichier refusé", error.message))
    preview = import_preview(current_user, parsed)
    return _import_page(preview=preview, token=_token(parsed, name, preview.digest), name=name)


@bp.route("/planification/import/confirmation", methods=["POST"])
def planning_import_apply():
    """"Importer N session(s)": the previewed sessions in one transaction, or the new preview."""
    request.max_form_memory_size = 8 * 1024 * 1024  # the token of a large planning
    parsed, name, digest = _untoken(request.form.get("jeton"))
    try:
        result = import_planning(current_user, parsed, digest, name=name)
    except PreviewChanged as changed:
        db.session.rollback()  # nothing was written: the write lock goes before rendering
        return _import_page(status=409, preview=changed.preview, name=name,
                            token=_token(parsed, name, changed.preview.digest),
                            banner=Banner("warning", changed.title, changed.message))
    done = Banner("success", "Succès", f"{result.count} session(s) importée(s) depuis "
                  f"« {name} » ; {result.already} déjà planifiée(s), {result.refused} "
                  "refusée(s).")
    link = url_for("ber.planning", date=dates.ddmmyyyy(result.first))
    return committed(lambda: _import_page(banner=done, done_link=link), done)
