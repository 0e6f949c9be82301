"""The driving school's forms: the filters of "Mes examens programmés", "Mes demandes"."""

import datetime as dt

from wtforms import Form, StringField
from wtforms.validators import Length, Optional

from ..web import parse_int

PAST = "passes"


class ExamsFilterForm(Form):
    """Read from the query string (GET) or the hidden fields of the cancel form (POST).

    Values are only ever compared with known codes, so a tampered value falls back to the
    default view (upcoming exams, CE if the school has some) instead of an error.
    """

    categorie = StringField(validators=[Optional(), Length(max=8)])
    periode = StringField(validators=[Optional(), Length(max=10)])

    @property
    def category_code(self) -> str | None:
        return (self.categorie.data or "").strip() or None

    @property
    def past(self) -> bool:
        return self.periode.data == PAST


def parse_month(text) -> dt.date | None:
    """'2026-12' -> 2026-12-01; None for anything else."""
    try:
        return dt.datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        return None


class DemandForm(Form):
    """"Enregistrer ma demande" (AE 3). Values are passed on as typed: the domain function
    refuses each bad one with its French message."""

    mois = StringField(validators=[Optional(), Length(max=7)])
    categorie = StringField(validators=[Optional(), Length(max=8)])
    unites = StringField()
    demi_journee = StringField()
    commentaire = StringField()

    def __init__(self, formdata):
        super().__init__(formdata)
        self._centres = formdata.getlist("centres")

    @property
    def month(self):
        return parse_month(self.mois.data)

    @property
    def units(self):
        """An int, or the text typed (refused by the domain with its message)."""
        raw = (self.unites.data or "").strip()
        try:
            return int(raw)
        except ValueError:
            return raw

    @property
    def centre_ids(self) -> list:
        """Ids (web.parse_int: ASCII digits within the database's INTEGER); a tampered value is
        kept as typed so that the domain refuses it ("²" is a digit to str.isdigit, not to
        int())."""
        return [parse_int(v) or v for v in self._centres]

    def values(self) -> dict:
        """What was typed, to show it again beside a refusal."""
        return {"units": (self.unites.data or "").strip()[:20],
                "centre_ids": [i for i in self.centre_ids if isinstance(i, int)],
                "half_day": self.demi_journee.data, "comment": self.commentaire.data or ""}


class CandidateForm(Form):
    """"Affecter un candidat" (AE 5). Values are passed on as typed: the domain function
    (rdvpl/candidates.py) trims them and refuses each bad one with its French message."""

    nom = StringField()
    prenom = StringField()
    neph = StringField()
    periode = StringField(validators=[Optional(), Length(max=10)])

    @property
    def past(self) -> bool:
        return self.periode.data == PAST

    def values(self) -> dict:
        """What was typed, to show it again beside a refusal (bounded)."""
        return {"nom": (self.nom.data or "")[:200], "prenom": (self.prenom.data or "")[:200],
                "neph": (self.neph.data or "")[:40]}
