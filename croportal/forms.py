from django import forms

from croportal.concurrency import StaleWrite
from croportal.exceptions import ApplicationError


class ChangeReasonField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("label", "Reason for change")
        kwargs.setdefault("help_text", "Recorded in the audit trail (21 CFR 11.10(e)).")
        kwargs.setdefault("error_messages", {"required": "A reason for the change is required."})
        super().__init__(**kwargs)


class RevisionField(forms.IntegerField):
    """The version of the record the form was opened on: a stale save is refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**31 - 1)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


def revision_initial(form: forms.Form, instance) -> None:
    """Carry the record's version in the form (unless the posted one is already there)."""
    if instance is not None and getattr(instance, "pk", None):
        form.fields["revision"].initial = instance.revision


def form_error_from(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on the form, against its field when it names one (a hidden
    field's refusal, such as a stale version, at the top of the form)."""
    field = error.field if error.field in form.fields else None
    if field is not None and form.fields[field].widget.is_hidden:
        field = None
    form.add_error(field, error.message)
    if isinstance(error, StaleWrite):
        form.stale = True  # type: ignore[attr-defined]


def form_status(*forms_shown: forms.Form | None) -> int:
    """409 when a form was refused because its record changed meanwhile, else 200."""
    return 409 if any(getattr(f, "stale", False) for f in forms_shown) else 200
