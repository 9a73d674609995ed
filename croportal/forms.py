from django import forms

from croportal.exceptions import ApplicationError


class ChangeReasonField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("label", "Reason for change")
        kwargs.setdefault("help_text", "Recorded in the audit trail (21 CFR 11.10(e)).")
        kwargs.setdefault("error_messages", {"required": "A reason for the change is required."})
        super().__init__(**kwargs)


def form_error_from(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on the form, against its field when it names one."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
