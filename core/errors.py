class ApplicationError(Exception):
    """A rule said no. The message is shown to the user as it is (no PHI in it); the API maps it
    to a 400 with the message, pages show it as a form error."""

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def add_to_form(self, form) -> None:
        """Show the refusal on the form: next to its field when the form has it, else on top. An
        `extra` entry naming a field of the form (a list of messages) shows beside that field too."""
        form.add_error(self.field if self.field in form.fields else None, self.message)
        for name, messages in self.extra.items():
            if name in form.fields and isinstance(messages, list):
                for message in messages:
                    form.add_error(name, message)
