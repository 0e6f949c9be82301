"""Driving-school screens: "Mes examens programmés"."""

from flask import render_template

from . import bp


@bp.route("/examens")
def exams():
    """Mes examens programmés (AE 1-2)."""
    return render_template("ae/exams.html")
