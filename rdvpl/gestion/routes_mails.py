"""Suivi des e-mails: recent mails and their state; "Renvoyer" a mail en échec."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from .. import mail_follow
from ..notify import requeue_failed
from ..web import parse_int, render
from . import bp
from .forms import EmptyForm


@bp.route("/courriels")
def mails():
    """The recent e-mails (newest first), filterable by state, 50 a page."""
    listing = mail_follow.recent_mails(current_user, status=request.args.get("etat"),
                                       page=parse_int(request.args.get("page")) or 1)
    return render("referentiels/mails.html", listing=listing, states=mail_follow.STATES,
                  form=EmptyForm(formdata=None))


@bp.route("/courriels/<id:mail_id>/renvoi", methods=["POST"])
def mail_requeue(mail_id: int):
    """"Renvoyer": a mail en échec goes back to the outbox, due now."""
    mail = mail_follow.scoped_mail(current_user, mail_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    requeue_failed(current_user, mail, department_id=current_user.department_id)
    flash(f"L'e-mail « {mail.subject} » à {mail.recipients} est remis en envoi.", "success")
    return redirect(url_for("referentiels.mails", etat=request.args.get("etat") or None))
