class ApplicationError(Exception):
    """A business rule refused the action; carries a message and, optionally, the field."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    def as_dict(self) -> dict:
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message}


class SignatureRefused(ApplicationError):
    """The e-signature's password re-entry failed: nothing is saved (403 in the API)."""

    def __init__(self, message: str = "The password is not correct; nothing was signed.") -> None:
        super().__init__(message, field=None, status=403)
