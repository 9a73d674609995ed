from django import forms

from safety.models import Causality, Expectedness


class ReviewForm(forms.Form):
    sponsor_causality = forms.ChoiceField(choices=Causality.choices)
    expectedness = forms.ChoiceField(choices=Expectedness.choices)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    password = forms.CharField(
        widget=forms.PasswordInput, strip=False,
        help_text="Re-enter your password to sign (21 CFR 11.200).",
    )
