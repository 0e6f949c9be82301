"""BER capacity screens (SPEC Part 2): "Samedis supplémentaires travaillés" (BER 7).

Routes parse, call one domain function of rdvpl/capacity.py and choose the response. A change
that would remove planned sessions answers the "Sessions concernées" dialog
(templates/dialogs/_sessions_concerned.html), whose confirmation posts the same change again
with the ids of the sessions listed.
"""

from __future__ import annotations

from flask import make_response, render_template, request, url_for
from flask_login import current_user

from .. import dates
from ..capacity import saturdays_table, set_worked_saturday
from ..errors import DomainError
from ..sessions import SessionsConcerned
from ..web import Banner, committed, fragments, parse_int, render, wants_fragment
from . import bp

SATURDAYS = "ber/samedis.html"


def confirmed_sessions(form) -> set[int] | None:
    """The session ids the agent confirmed in the dialog; None when nothing was confirmed."""
    if form.get("confirme") != "1":
        return None
    ids = {parse_int(v) for v in form.getlist("session")}
    return {i for i in ids if i is not None}


def concerned_dialog(error: SessionsConcerned, action: str, fields: list[tuple[str, str]],
                     target: str, page):
    """The "Sessions concernées" dialog into #dialog (htmx), or the page with it open."""
    html = render_template("dialogs/_sessions_concerned.html", sessions=error.sessions,
                           action=action, fields=fields, target=target, return_focus=target)
    if wants_fragment():
        response = make_response(html)
        response.headers["HX-Retarget"] = "#dialog"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return page(dialog_html=html)


@bp.route("/samedis")
def saturdays():
    """Samedis supplémentaires travaillés (BER 7): the next 12 Saturdays × the inspectors."""
    return render(SATURDAYS, table=saturdays_table(current_user),
                  url=url_for("ber.saturday_toggle"))


@bp.route("/samedis", methods=["POST"], endpoint="saturday_toggle")
def saturday_toggle():
    """One toggle: declare or un-declare a Saturday for an inspector; the button swapped."""
    inspector_id = parse_int(request.form.get("inspecteur"))
    day = dates.parse_fr_date(request.form.get("samedi"))
    worked = request.form.get("travaille")
    if inspector_id is None or day is None or worked not in ("0", "1"):
        raise DomainError("La demande envoyée est invalide. Rechargez la page puis recommencez.")
    url = url_for("ber.saturday_toggle")
    try:
        change = set_worked_saturday(current_user, inspector_id, day, worked == "1",
                                     confirmed=confirmed_sessions(request.form))
    except SessionsConcerned as error:
        fields = [("inspecteur", str(inspector_id)), ("samedi", day.isoformat()),
                  ("travaille", worked)]
        return concerned_dialog(
            error, url, fields, f"samedi-{inspector_id}-{day:%Y%m%d}",
            lambda **extra: render(SATURDAYS, table=saturdays_table(current_user), url=url,
                                   **extra))
    t = change.toggle
    message = (f"{t.name} : samedi {'travaillé' if t.worked else 'non travaillé'}.")
    if change.removed:
        message += (f" {len(change.removed)} session(s) supprimée(s) ; les auto-écoles "
                    "concernées ont été prévenues par e-mail.")
    done = Banner("success", "Succès", message)

    def view():
        if wants_fragment():
            return fragments(render_template("partials/_saturday.html", one_toggle=t, url=url,
                                             autofocus=bool(change.removed)),
                             banner=done, close_dialog=bool(change.removed))
        return render(SATURDAYS, table=saturdays_table(current_user), url=url, banner=done)

    return committed(view, done)
