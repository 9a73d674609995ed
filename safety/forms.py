from datetime import datetime

from django import forms
from django.utils import timezone

from croportal.forms import RevisionField, revision_initial
from croportal.timezones import on_their_clock, zone_of
from safety.models import SERIOUSNESS_CRITERIA, Causality, Expectedness, Outcome
from safety.services.obligations import Zone


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
    rsi_version = forms.CharField(
        label="Reference safety information", max_length=100, required=False,
        help_text="The RSI the expectedness is judged against, e.g. IB v7 section 6.4 "
                  "(left empty: the case keeps the one it has).")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    password = forms.CharField(
        widget=forms.PasswordInput, strip=False,
        help_text="Re-enter your password to sign (21 CFR 11.200).",
    )


# ------------------------------------------------------------------------- case entry pages

CRITERIA_LABELS = {
    "death": "Death", "life_threatening": "Life-threatening",
    "hospitalization": "Hospitalisation (initial or prolonged)",
    "disability": "Persistent or significant disability", "congenital_anomaly":
    "Congenital anomaly / birth defect", "important_medical_event": "Important medical event",
}
NOT_ASSESSED = [("", "not assessed")]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
# The sponsor's assessment: only the trial's medical monitor gives it (the case service refuses
# it from anyone else).
SPONSOR_FIELDS = ("sponsor_causality", "expectedness", "rsi_version")


def _moment(**kwargs) -> forms.DateTimeField:
    return forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=DATETIME_FORMATS, **kwargs)


def _day(**kwargs) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                           **kwargs)


class ZonedForm(forms.Form):
    """A form whose datetime-local inputs are wall-clock times of the trial's safety zone."""

    moments: tuple[str, ...] = ()

    def __init__(self, *args, zone: str, **kwargs):
        self.zone = zone or "UTC"
        super().__init__(*args, **kwargs)
        for name in self.moments:
            field = self.fields[name]
            field.help_text = " ".join(filter(None, [field.help_text, f"Time in {self.zone}."]))

    def full_clean(self):
        # Read the inputs on the trial's clock whatever the reader's (the page's active zone):
        # a time in the reader's DST gap is still a time of the trial's zone.
        with timezone.override(zone_of(Zone(self.zone))):
            super().full_clean()

    def clean(self):
        cleaned = super().clean()
        for name in self.moments:
            value = cleaned.get(name)
            if isinstance(value, datetime):
                naive = timezone.make_naive(value) if timezone.is_aware(value) else value
                cleaned[name] = on_their_clock(naive, Zone(self.zone))
        return cleaned


class CaseFieldsForm(ZonedForm):
    """The case's own data, with the widgets of the entry page (and of a follow-up)."""

    verbatim_term = forms.CharField(max_length=300, label="Verbatim term",
                                    help_text="The event as the site reported it.")
    term = forms.CharField(max_length=200, required=False, label="CTCAE v5 term",
                           help_text="Search the dictionary below and choose a term.")
    meddra_code = forms.CharField(max_length=8, required=False, widget=forms.HiddenInput)
    onset_date = _day(label="Onset date")
    end_date = _day(label="End date", required=False)
    severity_grade = forms.TypedChoiceField(
        coerce=int, label="Severity grade (CTCAE)", widget=PromptSelect,
        choices=_with_prompt([(str(g), str(g)) for g in range(1, 6)]))
    seriousness_criteria = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Seriousness criteria",
        choices=[(c, CRITERIA_LABELS[c]) for c in SERIOUSNESS_CRITERIA])
    outcome = forms.ChoiceField(choices=_with_prompt(Outcome.choices), widget=PromptSelect)
    investigator_causality = forms.ChoiceField(
        choices=NOT_ASSESSED + list(Causality.choices), required=False,
        label="Investigator causality")
    sponsor_causality = forms.ChoiceField(choices=NOT_ASSESSED + list(Causality.choices),
                                          required=False, label="Sponsor causality")
    expectedness = forms.ChoiceField(choices=NOT_ASSESSED + list(Expectedness.choices),
                                     required=False, label="Expectedness")
    rsi_version = forms.CharField(max_length=100, required=False, label="RSI version")

    def __init__(self, *args, sponsor_assessment: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not sponsor_assessment:
            for name in SPONSOR_FIELDS:
                del self.fields[name]

    def case_values(self) -> dict:
        """The cleaned case fields as the case service takes them (blank = not given)."""
        values = {}
        for name in self.fields:
            if name in self.moments or name in ("narrative", "information_received_at",
                                                "revision"):
                continue
            value = self.cleaned_data.get(name)
            values[name] = None if value in ("", None) and name != "rsi_version" else value
        values["seriousness_criteria"] = list(values.get("seriousness_criteria") or [])
        return values


class CaseForm(CaseFieldsForm):
    """Entering an adverse event: the clocks start at the two awareness times."""

    moments = ("site_awareness_at", "sponsor_awareness_at")
    site_awareness_at = _moment(label="Site awareness")
    sponsor_awareness_at = _moment(label="Sponsor awareness",
                                   help_text="When the CRO/sponsor received the report.")
    narrative = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    field_order = ["verbatim_term", "term", "meddra_code", "onset_date", "end_date",
                   "severity_grade", "seriousness_criteria", "outcome", "investigator_causality",
                   "site_awareness_at", "sponsor_awareness_at", "narrative"]

    def case_fields(self) -> dict:
        return {**self.case_values(), **{name: self.cleaned_data[name] for name in self.moments},
                "narrative": self.cleaned_data.get("narrative", "")}


class FollowUpForm(CaseFieldsForm):
    """New information about a case: the case fields prefilled; only those that differ from
    the case as it stands are sent as its changes."""

    moments = ("information_received_at",)
    information_received_at = _moment(label="Information received")
    narrative = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                label="What the new information says")

    revision = RevisionField()  # the case as the form showed it: a stale follow-up is refused

    field_order = ["information_received_at"]

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, initial=case_initial(event), **kwargs)
        self.event = event
        revision_initial(self, event)

    def follow_up(self) -> dict:
        """The service's arguments: the receipt time, the changed fields, the narrative."""
        current = case_initial(self.event)
        changes = {}
        for name, value in self.case_values().items():
            if name == "meddra_code":
                continue
            if _same(name, value, current.get(name)):
                continue
            changes[name] = value
        code = self.cleaned_data.get("meddra_code")
        if "term" in changes and code and code != self.event.meddra_code:  # a stale code is not
            changes["meddra_code"] = code  # sent: the service then finds the term by its name
        return {"information_received_at": self.cleaned_data["information_received_at"],
                "changes": changes, "narrative": self.cleaned_data.get("narrative", ""),
                "expected_revision": self.cleaned_data.get("revision")}


def case_initial(event) -> dict:
    """The case as it stands, as the follow-up form's initial values."""
    return {
        "verbatim_term": event.verbatim_term, "term": event.term.term if event.term else "",
        "meddra_code": event.meddra_code, "onset_date": event.onset_date,
        "end_date": event.end_date, "severity_grade": event.severity_grade,
        "seriousness_criteria": list(event.seriousness_criteria or []),
        "outcome": event.outcome, "investigator_causality": event.investigator_causality or "",
        "sponsor_causality": event.sponsor_causality or "",
        "expectedness": event.expectedness or "", "rsi_version": event.rsi_version,
    }


def _same(name: str, value, current) -> bool:
    if name == "seriousness_criteria":
        return sorted(value or []) == sorted(current or [])
    if name == "term":
        return (value or "").strip().lower() == (current or "").strip().lower()
    return (value if value not in ("", None) else None) == (
        current if current not in ("", None) else None)


class SubmitForm(ZonedForm):
    """Recording that a report was sent to its recipient."""

    moments = ("submitted_at",)
    submitted_at = _moment(label="Submitted at")
    reference = forms.CharField(max_length=100, label="Recipient's reference")
