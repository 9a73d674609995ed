
from django import forms
from django.utils import timezone

from croportal.timezones import on_their_clock
from reminders.models import Deadline
from reminders.policies import MANUAL_KINDS, Kind


class DeadlineForm(forms.Form):
    """A hand-made deadline; the due time is read in the person's own time zone."""

    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in Kind if k in MANUAL_KINDS])
    title = forms.CharField(max_length=300)
    trial = forms.ModelChoiceField(queryset=Deadline.objects.none())
    owner = forms.ModelChoiceField(queryset=Deadline.objects.none(), required=False,
                                   help_text="Leave empty for yourself.")
    due = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                              input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])

    def __init__(self, *args, user, trials, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["trial"].queryset = trials
        self.fields["owner"].queryset = people

    def clean_due(self):
        due = self.cleaned_data["due"]
        naive = timezone.make_naive(due) if timezone.is_aware(due) else due
        return on_their_clock(naive, self.user)


class PreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(required=False, label="E-mail me reminders")
    digest_only = forms.BooleanField(
        required=False, label="Digest only",
        help_text="No e-mail per reminder: everything comes in the daily digest.")
    daily_digest = forms.BooleanField(required=False, label="Send me a daily digest")
    muted_kinds = forms.MultipleChoiceField(
        choices=Kind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label="No e-mail for these kinds (in-app only)")
