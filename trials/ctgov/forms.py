from django import forms

from staffing.models import Organisation
from trials.ctgov import MAX_BYTES, CtgovRecord
from trials.models import Phase


class CtgovUploadForm(forms.Form):
    file = forms.FileField(
        label="ClinicalTrials.gov record",
        help_text="One study: the API v2 JSON (clinicaltrials.gov/api/v2/studies/NCT…) or the "
                  "legacy XML download, at most 20 MB.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; a single study "
                "record is far smaller.")
        return upload


class CtgovConfirmForm(forms.Form):
    sponsor = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False, empty_label="— a new sponsor —",
        help_text="An existing sponsor organisation, or leave empty and name a new one.",
    )
    sponsor_name = forms.CharField(label="New sponsor's name", max_length=200, required=False)
    phase = forms.ChoiceField(choices=[("", "—"), *Phase.choices], required=False,
                              help_text="Required when the registry gives no phase.")

    def __init__(self, *args, record: CtgovRecord, **kwargs):
        super().__init__(*args, **kwargs)
        sponsors = Organisation.objects.filter(kind=Organisation.Kind.SPONSOR)
        self.fields["sponsor"].queryset = sponsors  # type: ignore[attr-defined]
        if not self.is_bound:
            match = sponsors.filter(name__iexact=record.lead_sponsor).first()
            self.initial.update({"sponsor": match, "phase": record.phase or "",
                                 "sponsor_name": "" if match else record.lead_sponsor})
