import re

from django.db import transaction

from croportal.audit import audited_save
from croportal.exceptions import ApplicationError
from sites.models import Site, Subject
from staffing.models import User
from trials.models import Trial

SITE_EDITABLE_FIELDS = (
    "number", "institution", "country", "city", "principal_investigator", "status",
    "target_enrollment", "activated_on",
)


def country_code(value: str) -> str | None:
    """An ISO 3166-1 alpha-2 code in capitals ('de' → 'DE'), or None if it is not one."""
    code = (value or "").strip().upper()
    return code if re.fullmatch(r"[A-Z]{2}", code) else None


def _clean_country(fields: dict) -> None:
    if "country" in fields:
        code = country_code(fields["country"])
        if code is None:
            raise ApplicationError("Use the ISO 3166-1 alpha-2 country code.", field="country")
        fields["country"] = code


@transaction.atomic
def site_create(*, trial: Trial, by: User, **fields) -> Site:
    """Add a site to a trial."""
    _clean_country(fields)
    if Site.objects.filter(trial=trial, number=fields.get("number")).exists():
        raise ApplicationError("This trial already has a site with that number.", field="number")
    site = Site(trial=trial, **{k: v for k, v in fields.items() if k in SITE_EDITABLE_FIELDS})
    audited_save(site, by=by, reason="Site created")
    return site


@transaction.atomic
def site_update(*, site: Site, by: User, reason: str, **fields) -> Site:
    """Edit a site's fields, with the reason recorded in its audit trail."""
    _clean_country(fields)
    number = fields.get("number", site.number)
    if Site.objects.filter(trial_id=site.trial_id, number=number).exclude(pk=site.pk).exists():
        raise ApplicationError("This trial already has a site with that number.", field="number")
    for name, value in fields.items():
        if name in SITE_EDITABLE_FIELDS:
            setattr(site, name, value)
    audited_save(site, by=by, reason=reason)
    return site


@transaction.atomic
def subject_create(*, site: Site, by: User, number: str, **fields) -> Subject:
    """Register a subject at a site under a pseudonymous number."""
    if Subject.objects.filter(trial_id=site.trial_id, number=number).exists():
        raise ApplicationError("This trial already has a subject with that number.",
                               field="number")
    subject = Subject(site=site, trial_id=site.trial_id, number=number, **fields)
    audited_save(subject, by=by, reason="Subject registered")
    return subject
