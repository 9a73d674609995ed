from zoneinfo import available_timezones

from django import forms
from django.db.models import Model, TextChoices
from django.forms.models import fields_for_model, model_to_dict

from croportal.exceptions import ApplicationError
from croportal.forms import ChangeReasonField, RevisionField, revision_initial
from staffing.models import Organisation
from trials.models import ConsentVersion, Milestone, ProtocolAmendment, Trial, TrialStatus
from trials.services import nct_id_checked

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Status is not here: it moves only through the lifecycle form (trial_transition).
TRIAL_FIELDS = (
    "protocol_number", "title", "sponsor", "phase", "therapeutic_area", "indication",
    "target_enrollment", "ind_number", "eu_ct_number", "nct_id",
    "investigational_product", "safety_timezone", "dibd", "medical_review_days",
)


class _TrialFieldsForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].queryset = Organisation.objects.filter(
            kind=Organisation.Kind.SPONSOR
        )
        self.fields["medical_review_days"].required = False

    def clean_nct_id(self) -> str:
        try:
            return nct_id_checked(value=self.cleaned_data.get("nct_id"))
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None

    def clean_safety_timezone(self) -> str:
        value = self.cleaned_data["safety_timezone"] or "UTC"
        if value not in available_timezones():
            raise forms.ValidationError("Use an IANA time zone name, e.g. Europe/Paris.")
        return value

    def clean_medical_review_days(self) -> int:
        """Left empty: the trial keeps its setting (a new trial gets the default of one day)."""
        value = self.cleaned_data["medical_review_days"]
        return self.instance.medical_review_days if value is None else value


class TrialForm(_TrialFieldsForm):
    revision = RevisionField()
    change_reason = ChangeReasonField()

    class Meta:
        model = Trial
        fields = TRIAL_FIELDS
        widgets = {"dibd": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        revision_initial(self, self.instance)


class TrialCreateForm(_TrialFieldsForm):
    """A new trial starts in planning: its status moves only through transitions."""

    class Meta:
        model = Trial
        fields = TRIAL_FIELDS
        widgets = {"dibd": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["safety_timezone"].required = False


class TransitionForm(forms.Form):
    """A lifecycle step: the select offers the allowed next statuses; any posted value goes to
    the service, whose refusal ("cannot go from … to …; allowed: …") is the error shown."""

    labels: type[TextChoices]
    status = forms.CharField(label="New status", widget=forms.Select)
    change_reason = ChangeReasonField()
    revision = RevisionField()

    def __init__(self, *args, allowed: list[str], instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].widget.choices = [(s, self.labels(s).label) for s in allowed]
        revision_initial(self, instance)


class TrialTransitionForm(TransitionForm):
    labels = TrialStatus


class ModelFieldsForm(forms.Form):
    """A plain form with a model's field definitions (labels, widgets, choices) and no model
    validation: the service is the one place that checks the rules and names the field."""

    model: type[Model]
    model_fields: tuple[str, ...] = ()
    widgets: dict = {}

    def __init__(self, *args, instance: Model | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", model_to_dict(instance, fields=self.model_fields))
        super().__init__(*args, **kwargs)
        own = fields_for_model(self.model, self.model_fields, widgets=self.widgets)
        self.fields = {**own, **self.fields}  # the model's fields first, a reason last


class MilestoneForm(ModelFieldsForm):
    model = Milestone
    model_fields = ("kind", "name", "baseline_date", "planned_date", "actual_date")
    widgets = {"baseline_date": DATE, "planned_date": DATE, "actual_date": DATE}


class MilestoneEditForm(MilestoneForm):
    revision = RevisionField()
    change_reason = ChangeReasonField()

    def __init__(self, *args, instance: Model | None = None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        revision_initial(self, instance)


class AmendmentForm(ModelFieldsForm):
    model = ProtocolAmendment
    model_fields = ("version", "approved_on", "summary")
    widgets = {"approved_on": DATE, "summary": forms.Textarea(attrs={"rows": 2})}


class ConsentVersionForm(ModelFieldsForm):
    model = ConsentVersion
    model_fields = ("version", "summary")
    widgets = {"summary": forms.Textarea(attrs={"rows": 2})}
