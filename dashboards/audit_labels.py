"""An audit trail people can read: each change with its field's verbose name, the raw values
and what they mean — a foreign key as what it names (a user by full name), a choice as its
label. The related rows are read once per foreign key (one query per field, whatever the
number of history rows)."""

from dataclasses import dataclass

from django.db.models import Model
from django.urls import reverse

from croportal.audit import field_changes

NOTHING = "∅"


@dataclass(frozen=True)
class Change:
    field: str
    old: object
    new: object
    old_label: str
    new_label: str


def _name_of(obj: Model) -> str:
    full_name = getattr(obj, "full_name", None)
    return str(full_name) if full_name else str(obj)


def labellers(*, model: type[Model], rows: list) -> dict[str, dict]:
    """Per verbose field name, raw value → label, for the foreign keys and choices of
    `model` that appear in these history rows."""
    tables: dict[str, dict] = {}
    for field in model._meta.fields:
        if field.many_to_one and field.related_model is not None:
            ids = {getattr(row, field.attname) for row in rows} - {None}
            related = field.related_model._default_manager.filter(pk__in=ids)
            tables[str(field.verbose_name)] = {obj.pk: _name_of(obj) for obj in related}
        elif field.choices:
            tables[str(field.verbose_name)] = {value: str(label)
                                               for value, label in field.flatchoices}
    return tables


def _label(field_labels: dict | None, value) -> str:
    if value is None or value == "":
        return NOTHING
    if field_labels is not None and value in field_labels:
        return field_labels[value]
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or NOTHING
    return str(value)


def readable_changes(*, newer, older, labels: dict[str, dict]) -> list[Change]:
    return [Change(field=str(name), old=old, new=new,
                   old_label=_label(labels.get(str(name)), old),
                   new_label=_label(labels.get(str(name)), new))
            for name, old, new in field_changes(newer, older)]


# Where each audited kind is read: the record's own page, or the page that holds it.
RECORD_PAGES = {
    "trial": ("trials:detail", "pk"),
    "milestone": ("trials:detail", "trial_id"),
    "amendment": ("trials:detail", "trial_id"),
    "consent-version": ("trials:detail", "trial_id"),
    "site": ("sites:detail", "pk"),
    "subject": ("sites:detail", "site_id"),
    "essential-document": ("sites:detail", "site_id"),
    "site-consent-version": ("sites:detail", "site_id"),
    "adverse-event": ("safety:ae_detail", "pk"),
    "assignment": ("staffing:trial_staff", "trial_id"),
}


def record_page(*, kind: str, record: Model) -> str | None:
    """A link back to the record an audit trail is of (None where no page shows it)."""
    if kind == "consent-record":
        return reverse("sites:detail", args=[record.subject.site_id])  # type: ignore[attr-defined]
    if kind not in RECORD_PAGES:
        return None
    name, attribute = RECORD_PAGES[kind]
    return reverse(name, args=[getattr(record, attribute)])


