"""Domain errors: raised by domain functions with the French message the user must read."""


class DomainError(Exception):
    """A refused action. ``message`` is shown as is in the error banner; nothing was changed."""

    status_code = 422

    def __init__(self, message: str, *, title: str = "Erreur"):
        super().__init__(message)
        self.message = message
        self.title = title


class NotFound(DomainError):
    """Unknown id, or an id of another department or school: answered as a 404."""

    status_code = 404

    def __init__(self, message: str = "Élément introuvable."):
        super().__init__(message, title="Introuvable")


class Conflict(DomainError):
    """Someone else changed the data meanwhile (stale grid, double submit)."""

    status_code = 409
