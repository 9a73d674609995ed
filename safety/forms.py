from django import forms

from safety.models import Causality, Expectedness


class PromptSelect(forms.Select):
    """A select whose empty prompt is never marked selected: nothing is preselected, and the
    required attribute makes the browser ask for a choice."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        return super().create_option(name, value, label, selected and value != "", index,
                                     subindex=subindex, attrs=attrs)


def _with_prompt(choices) -> list[tuple[str, str]]:
    return [("", "— choose —"), *choices]


class ReviewForm(forms.Form):
    # The medical monitor's own judgement: neither causality nor expectedness is preselected.
    sponsor_causality = forms.ChoiceField(choices=_with_prompt(Causality.choices),
                                          widget=PromptSelect)
    expectedness = forms.ChoiceField(choices=_with_prompt(Expectedness.choices),
                                     widget=PromptSelect)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    password = forms.CharField(
        widget=forms.PasswordInput, strip=False,
        help_text="Re-enter your password to sign (21 CFR 11.200).",
    )
