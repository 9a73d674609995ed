from django import forms

from croportal.forms import ChangeReasonField, RevisionField, revision_initial
from sites.models import DocumentStatus, EssentialDocument, Site, SiteStatus, SubjectStatus
from sites.services import country_code
from trials.forms import DATE, ModelFieldsForm, TransitionForm

# The activation date is set by the activation step, never typed in (sites.services).
SITE_DATES = ("planned_activation_on", "contract_executed_on", "initiation_visit_on")


def _clean_country(value: str) -> str:
    code = country_code(value)
    if code is None:
        raise forms.ValidationError("Use the ISO 3166-1 alpha-2 country code, e.g. DE.")
    return code


class SiteForm(forms.ModelForm):
    """A site's fields; its status moves only through the lifecycle form (the CRM's call)."""

    revision = RevisionField()
    change_reason = ChangeReasonField()

    class Meta:
        model = Site
        fields = (
            "number", "institution", "country", "city", "principal_investigator",
            "target_enrollment", *SITE_DATES,
        )
        widgets = dict.fromkeys(SITE_DATES, DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        revision_initial(self, self.instance)

    def clean_country(self) -> str:
        return _clean_country(self.cleaned_data["country"])


class SiteCreateForm(ModelFieldsForm):
    model = Site
    model_fields = ("number", "institution", "country", "city", "principal_investigator",
                    "target_enrollment", "planned_activation_on", "contract_executed_on")
    widgets = {"planned_activation_on": DATE, "contract_executed_on": DATE}

    def clean_country(self) -> str:
        return _clean_country(self.cleaned_data["country"])


class SiteTransitionForm(TransitionForm):
    labels = SiteStatus


class DocumentForm(ModelFieldsForm):
    model = EssentialDocument
    model_fields = ("kind", "title", "version", "effective_on", "expires_on", "status")
    widgets = {"effective_on": DATE, "expires_on": DATE}


DOCUMENT_FILE_HELP = ("PDF, image, Word, Excel, PowerPoint or text. Its SHA-256 is recorded; "
                      "a later version is filed as a new document and keeps this file.")


def _file_field() -> forms.FileField:
    return forms.FileField(label="File", required=False, allow_empty_file=True,
                           help_text=DOCUMENT_FILE_HELP)


class DocumentFileForm(DocumentForm):
    """Filing: requested or received; approval is the CRM's review afterwards."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"] = _file_field()
        self.fields["status"].choices = [(s, DocumentStatus(s).label) for s in
                                         (DocumentStatus.RECEIVED, DocumentStatus.REQUESTED)]


class DocumentEditForm(DocumentForm):
    revision = RevisionField()
    change_reason = ChangeReasonField()

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=instance, **kwargs)
        revision_initial(self, instance)
        if instance is not None and not instance.file:  # a requested document's file, once
            self.fields = {**{k: v for k, v in self.fields.items()
                              if k not in ("revision", "change_reason")},
                           "file": _file_field(),
                           **{k: self.fields[k] for k in ("revision", "change_reason")}}


class SiteConsentVersionForm(forms.Form):
    consent_version = forms.TypedChoiceField(label="ICF version", coerce=int)
    ethics_approved_on = forms.DateField(label="Ethics approval on", widget=DATE)
    effective_on = forms.DateField(label="Effective at the site on", widget=DATE)

    def __init__(self, *args, versions: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent_version"].choices = versions


class SubjectScreenForm(forms.Form):
    number = forms.CharField(label="Subject number", max_length=30,
                             help_text="Pseudonymous: never a name, initials or birth date.")
    consent_version = forms.TypedChoiceField(label="ICF version signed", coerce=int)
    consented_on = forms.DateField(label="Consent date", widget=DATE)
    screened_on = forms.DateField(label="Screening date", widget=DATE, required=False,
                                  help_text="Left empty: the consent date.")

    def __init__(self, *args, versions: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent_version"].choices = versions


class SubjectTransitionForm(forms.Form):
    to = forms.CharField(label="New status", widget=forms.Select)
    on = forms.DateField(label="On", widget=DATE)
    withdrawal_reason = forms.CharField(label="Withdrawal reason", required=False,
                                        max_length=500)

    def __init__(self, *args, allowed: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].widget.choices = [(s, SubjectStatus(s).label) for s in allowed]


class ReconsentForm(forms.Form):
    consent_version = forms.TypedChoiceField(label="ICF version", coerce=int)
    consented_on = forms.DateField(label="Consent date", widget=DATE)

    def __init__(self, *args, versions: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent_version"].choices = versions
