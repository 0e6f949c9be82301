from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from ..accounts import MIN_PASSWORD_LENGTH

# No email-validator check: it rejects reserved domains such as example.test, and a wrong
# address simply matches no account.

TOO_SHORT = f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
# A bound on what is hashed: a megabyte "password" would cost the server, not the guesser.
TOO_LONG = "Le mot de passe ne peut pas dépasser 1 000 caractères."

def _email_field():
    return EmailField(
        "Adresse électronique",
        validators=[DataRequired("Saisissez votre adresse électronique."), Length(max=254)],
    )

class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        "Mot de passe", validators=[DataRequired("Saisissez votre mot de passe."),
                                    Length(max=1000, message=TOO_LONG)]
    )

class ForgotPasswordForm(FlaskForm):
    email = _email_field()

class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "Nouveau mot de passe",
        description=f"Au moins {MIN_PASSWORD_LENGTH} caractères.",
        validators=[DataRequired("Saisissez le nouveau mot de passe."),
                    Length(min=MIN_PASSWORD_LENGTH, message=TOO_SHORT),
                    Length(max=1000, message=TOO_LONG)],
    )
    confirm = PasswordField(
        "Confirmez le nouveau mot de passe",
        validators=[DataRequired("Saisissez une seconde fois le nouveau mot de passe."),
                    EqualTo("password", "Les deux mots de passe saisis ne sont pas identiques.")],
    )

class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "Mot de passe actuel", validators=[DataRequired("Saisissez votre mot de passe actuel."),
                                           Length(max=1000, message=TOO_LONG)]
    )

