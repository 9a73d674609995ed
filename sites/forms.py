from django import forms

from croportal.forms import ChangeReasonField
from sites.models import Site


class SiteForm(forms.ModelForm):
    change_reason = ChangeReasonField()

    class Meta:
        model = Site
        fields = (
            "number", "institution", "country", "city", "principal_investigator", "status",
            "target_enrollment", "activated_on",
        )
        widgets = {"activated_on": forms.DateInput(attrs={"type": "date"})}
