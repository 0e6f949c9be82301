"""The driving school's filters: category and period of "Mes examens programmés"."""

from wtforms import Form, StringField
from wtforms.validators import Length, Optional

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
