"""BER screens: "Planifier les activités" and "Gérer les créneaux"."""

from flask import render_template

from . import bp


@bp.route("/planification")
def planning():
    """Planifier les activités des IPCSR (BER 1-3)."""
    return render_template("ber/planning.html")


@bp.route("/creneaux")
def creneaux():
    """Gérer les plannings IPCSR (BER 4-5)."""
    return render_template("ber/creneaux.html")
