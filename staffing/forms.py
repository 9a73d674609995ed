from decimal import Decimal

from django import forms
from django.db.models import Q

from croportal.formats import format_fte
from croportal.forms import ChangeReasonField
from staffing.models import Assignment, Organisation, Role, TrainingRecord, User
from staffing.services import time_zone_names

# <input type=date> takes and gives ISO dates whatever the display format.
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TrainingRecordForm(forms.Form):
    kind = forms.ChoiceField(choices=TrainingRecord.Kind.choices)
    title = forms.CharField(max_length=200, required=False,
                            help_text="The protocol or course, when the kind alone is not enough.")
    completed_on = forms.DateField(widget=DATE)
    expires_on = forms.DateField(
        widget=DATE, required=False,
        help_text="Leave empty for GCP to use the standard validity period.",
    )


class AssignmentStartForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="start")
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")
    role = forms.ChoiceField(choices=Role.choices)
    site = forms.ModelChoiceField(queryset=None, required=False,
                                  help_text="Only for a CRA scoped to one site.")
    start_date = forms.DateField(widget=DATE, required=False)
    end_date = forms.DateField(widget=DATE, required=False)
    allocation = forms.DecimalField(max_digits=3, decimal_places=2, initial=1,
                                    min_value=Decimal("0.01"), max_value=1,
                                    label="Allocation (FTE)",
                                    help_text="A fraction of a full-time equivalent: 0.5 is "
                                              "half time.")

    def __init__(self, *args, trial, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people the trial can take: CRO staff, or the sponsor's own viewers.
        self.fields["user"].queryset = User.objects.filter(is_active=True).filter(
            Q(organisation__kind=Organisation.Kind.CRO) | Q(organisation=trial.sponsor_id)
        ).order_by("last_name", "first_name", "username")
        self.fields["site"].queryset = trial.sites.order_by("number")


class AssignmentEndForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="end")
    assignment = forms.ModelChoiceField(queryset=Assignment.objects.none())
    end_date = forms.DateField(widget=DATE)
    change_reason = ChangeReasonField()

    def __init__(self, *args, trial, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].queryset = (
            trial.assignments.filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .select_related("user", "site").order_by("user__last_name", "pk")
        )
        self.fields["assignment"].label_from_instance = _assignment_label


def _assignment_label(assignment: Assignment) -> str:
    site = f" at site {assignment.site.number}" if assignment.site_id else ""
    return (f"{assignment.user.full_name}, {assignment.get_role_display()}{site}, "
            f"{format_fte(assignment.allocation)}")


class ProfileForm(forms.Form):
    """A person's own name and time zone (the profile page)."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    timezone = forms.ChoiceField(
        label="Time zone", help_text="Pages, e-mails and your deadlines' times are on this clock.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(name, name) for name in time_zone_names()]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("first_name") or cleaned.get("last_name")) and not self.errors:
            self.add_error("first_name", "Give your name: lists and signatures show it.")
        return cleaned
