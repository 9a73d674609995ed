from zoneinfo import available_timezones

from django import forms

from croportal.forms import ChangeReasonField
from staffing.models import Organisation
from trials.models import Trial


class TrialForm(forms.ModelForm):
    change_reason = ChangeReasonField()

    class Meta:
        model = Trial
        fields = (
            "protocol_number", "title", "sponsor", "phase", "therapeutic_area", "indication",
            "status", "target_enrollment", "ind_number", "eu_ct_number", "nct_id",
            "investigational_product", "safety_timezone", "dibd",
        )
        widgets = {"dibd": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].queryset = Organisation.objects.filter(
            kind=Organisation.Kind.SPONSOR
        )

    def clean_safety_timezone(self) -> str:
        value = self.cleaned_data["safety_timezone"]
        if value not in available_timezones():
            raise forms.ValidationError("Use an IANA time zone name, e.g. Europe/Paris.")
        return value
