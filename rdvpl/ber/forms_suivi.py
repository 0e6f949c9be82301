"""Filters of "Consulter les examens", "Feuille du jour" and "Suivre l'activité" (GET forms:
every value is in the URL; a malformed one falls back to its default with a message)."""

from __future__ import annotations

import datetime as dt

from wtforms import Form, SelectField, StringField

from .. import dates
from ..gestion.forms import int_or_none

MAX_DAYS = 366  # a period longer than a year is cut (one page still shows 100 units)


def _choices(rows, everyone: str):
    return [("", everyone), *((str(i), label) for i, label in rows)]


class PeriodForm(Form):
    """"Du" / "Au" (jj/mm/aaaa); default: from today, the 6-week horizon."""

    du = StringField("Du (jj/mm/aaaa)")
    au = StringField("Au (jj/mm/aaaa)")

    def period(self, weeks: int = 6) -> tuple[dt.date, dt.date, str | None]:
        """(first, last, message): a malformed or reversed period gives the default one and
        says so."""
        today = dates.today()

        def parse(text):
            day = dates.parse_fr_date(text)
            # Far years would overflow the period's arithmetic; nothing is planned there.
            return day if day is not None and 2000 <= day.year <= 2099 else None

        first = parse(self.du.data) if self.du.data else today
        last = (parse(self.au.data) if self.au.data
                else (first or today) + dt.timedelta(weeks=weeks, days=-1))
        message = None
        if first is None or last is None:
            message = "Date non valide : saisissez-la au format jj/mm/aaaa. Période par défaut."
        elif last < first:
            message = "La date de fin précède la date de début. Période par défaut."
        elif (last - first).days >= MAX_DAYS:
            message = "La période est limitée à un an."
            last = first + dt.timedelta(days=MAX_DAYS - 1)
        if message and (first is None or last is None or last < first):
            first, last = today, today + dt.timedelta(weeks=weeks, days=-1)
        self.du.data, self.au.data = dates.ddmmyyyy(first), dates.ddmmyyyy(last)
        return first, last, message


class ExamFilters(PeriodForm):
    centre = SelectField("Centre", coerce=int_or_none, validate_choice=False)
    inspecteur = SelectField("Inspecteur", coerce=int_or_none, validate_choice=False)
    auto_ecole = SelectField("Auto-école", coerce=int_or_none, validate_choice=False)

    def with_choices(self, choices: dict) -> ExamFilters:
        self.centre.choices = _choices(choices["centres"], "Tous les centres")
        self.inspecteur.choices = _choices(choices["inspectors"], "Tous les inspecteurs")
        self.auto_ecole.choices = _choices(choices["schools"], "Toutes les auto-écoles")
        return self


class SheetForm(Form):
    inspecteur = SelectField("Inspecteur", coerce=int_or_none, validate_choice=False)
    date = StringField("Date (jj/mm/aaaa)")


class ActivityFilters(PeriodForm):
    """"Suivre l'activité": a period and a category (default CE; "" for all of them)."""

    categorie = SelectField("Catégorie de permis", default="CE", validate_choice=False)

    def with_categories(self, codes: list[str]) -> ActivityFilters:
        self.categorie.choices = [("", "Toutes les catégories"), *((c, c) for c in codes)]
        if self.categorie.data not in {"", *codes}:
            self.categorie.data = "CE" if "CE" in codes else ""
        return self

    def category(self) -> str | None:
        return self.categorie.data or None
