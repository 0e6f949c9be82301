"""BER capacity screens (SPEC Part 2): "Indisponibilités et autres charges" (BER 6) and
"Samedis supplémentaires travaillés" (BER 7).

Routes parse, call one domain function of rdvpl/capacity.py and choose the response. A change
that would remove planned sessions answers the "Sessions concernées" dialog
(templates/dialogs/_sessions_concerned.html), whose confirmation posts the same change again
with the ids of the sessions listed.
"""

from __future__ import annotations

from flask import make_response, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from .. import dates, scopes
from ..capacity import (
    ABSENCE_WEEKS,
    absences_list,
    add_absence,
    delete_absence,
    period_words,
    saturdays_table,
    set_worked_saturday,
)
from ..creneaux import default_inspector, inspector_choices
from ..errors import DomainError, NotFound
from ..models import AbsenceMotif
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


# ---------------------------------------------------------------------------------------------
# Indisponibilités et autres charges (BER 6)
# ---------------------------------------------------------------------------------------------

ABSENCES = "ber/indisponibilites.html"
HALVES = {"matin": False, "apres-midi": True}


def _absences_context(inspector_id: int | None) -> dict:
    """The page's filter, the chosen inspector's absences of the coming weeks, the form."""
    choices = inspector_choices(current_user.department_id, current_user.id)
    shown = next((c for c in choices if c.id == inspector_id), None)
    if shown is None:
        if inspector_id is not None:  # another department's inspector, or a deactivated one
            raise NotFound(scopes.PLANNING_INSPECTOR_NOT_FOUND)
        shown = default_inspector(choices)
    rows = absences_list(current_user, shown.id) if shown else []
    return {"choices": choices, "shown": shown, "rows": rows, "weeks": ABSENCE_WEEKS,
            "motifs": list(AbsenceMotif)}


def _absences_page(inspector_id: int | None, banner: Banner | None = None, **extra):
    """The "page" block (htmx, with the banner out-of-band and the dialog closed) or the page."""
    context = _absences_context(inspector_id)
    if wants_fragment():
        return fragments(render_block(ABSENCES, "page", **context), banner=banner,
                         close_dialog=True)
    return render(ABSENCES, banner=banner, **context, **extra)


@bp.route("/indisponibilites")
def absences():
    """Indisponibilités et autres charges (BER 6): an inspector's absences of the coming 12
    weeks with "Supprimer", and the form "Ajouter une indisponibilité"."""
    raw = request.args.get("inspecteur")
    inspector_id = parse_int(raw)
    if raw and inspector_id is None:
        raise NotFound(scopes.PLANNING_INSPECTOR_NOT_FOUND)
    return render(ABSENCES, "page", **_absences_context(inspector_id))


@bp.route("/indisponibilites", methods=["POST"], endpoint="absence_add")
def absence_add():
    """"Enregistrer l'indisponibilité" (through "Sessions concernées" over planned sessions)."""
    form = request.form
    inspector_id = parse_int(form.get("inspecteur"))
    if inspector_id is None:
        raise DomainError("Choisissez un inspecteur.")
    bounds = []
    for key, word in (("du", "de début"), ("au", "de fin")):
        text = form.get(key, "")
        day = dates.parse_fr_date(text)
        if day is None:
            raise DomainError(f"La date {word} est invalide : saisissez-la au format jj/mm/aaaa.")
        if form.get(f"{key}_demi") not in HALVES:
            raise DomainError("Choisissez « Matin » ou « Après-midi ».")
        bounds.append((day, HALVES[form[f"{key}_demi"]]))
    (start, start_pm), (end, end_pm) = bounds
    try:
        change = add_absence(current_user, inspector_id, form.get("motif", ""), start, start_pm,
                             end, end_pm, form.get("commentaire"),
                             confirmed=confirmed_sessions(form))
    except SessionsConcerned as error:
        fields = [(k, form.get(k, "")) for k in ("inspecteur", "motif", "du", "du_demi", "au",
                                                  "au_demi", "commentaire")]
        return concerned_dialog(error, url_for("ber.absence_add"), fields, "absences-page",
                                lambda **extra: render(ABSENCES, **_absences_context(inspector_id),
                                                       **extra))
    a = change.absence
    message = (f"Indisponibilité ({a.motif}) de {a.inspector.nom_prenom} enregistrée "
               f"{period_words(a.first_half, a.last_half)}.")
    if change.removed:
        message += (f" {len(change.removed)} session(s) supprimée(s) ; les auto-écoles "
                    "concernées ont été prévenues par e-mail.")
    done = Banner("success", "Succès", message)
    return committed(lambda: _absences_page(inspector_id, done), done)


@bp.route("/indisponibilites/<id:absence_id>/suppression", methods=["POST"])
def absence_delete(absence_id: int):
    """"Supprimer": the absence goes, its cells reopen."""
    before = delete_absence(current_user, absence_id)
    done = Banner("success", "Succès", f"Indisponibilité ({before['motif']}) de "
                  f"{before['inspector']} {before['period']} supprimée.")
    inspector_id = parse_int(request.form.get("inspecteur"))
    return committed(lambda: _absences_page(inspector_id, done), done)
