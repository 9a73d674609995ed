"""Sites: create and edit a site's own fields (not its lifecycle, which transitions own)."""

import re

from django.db import transaction
from django.utils import timezone

from croportal.audit import audited_save
from croportal.concurrency import apply_fields, lock_for_update
from croportal.exceptions import ApplicationError
from croportal.formats import format_date
from sites.models import (
    Site,
    SiteStatus,
)
from staffing.models import User
from trials.models import Trial

# Status and the activation date move only through site_transition (DOMAIN B §7-8).
SITE_EDITABLE_FIELDS = (
    "number", "institution", "country", "city", "principal_investigator",
    "target_enrollment", "planned_activation_on", "contract_executed_on",
    "initiation_visit_on",
)


SITE_LIFECYCLE_FIELDS = ("status", "activated_on")


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
def site_create(*, trial: Trial, by: User, status: str = SiteStatus.IDENTIFIED,
                **fields) -> Site:
    """Add a site to a trial. It starts identified, unless a registry import or the demo data
    says how far it already is (never active: activation goes through the checklist)."""
    _clean_country(fields)
    if Site.objects.filter(trial=trial, number=fields.get("number")).exists():
        raise ApplicationError("This trial already has a site with that number.", field="number")
    if status not in SiteStatus.values or status == SiteStatus.ACTIVE:
        raise ApplicationError("A new site starts before activation; activate it through its "
                               "checklist.", field="status")
    site = Site(trial=trial, status=status)
    apply_fields(site, fields, editable=SITE_EDITABLE_FIELDS)
    _check_site_dates(site)
    audited_save(site, by=by, reason="Site created")
    return site


@transaction.atomic
def site_update(*, site: Site, by: User, reason: str, expected_revision: int | None = None,
                **fields) -> Site:
    """Edit a site's fields (not its status or activation), locking the row and writing only
    what changed, with the reason recorded in its audit trail."""
    site = lock_for_update(site, expected_revision=expected_revision)
    for name in SITE_LIFECYCLE_FIELDS:
        if name in fields and fields.pop(name) != getattr(site, name):
            raise ApplicationError("A site's status and activation date change only through "
                                   "a lifecycle step.", field=name)
    _clean_country(fields)
    number = fields.get("number", site.number)
    if Site.objects.filter(trial_id=site.trial_id, number=number).exclude(pk=site.pk).exists():
        raise ApplicationError("This trial already has a site with that number.", field="number")
    changed = apply_fields(site, fields, editable=SITE_EDITABLE_FIELDS)
    _check_site_dates(site)
    if changed:
        audited_save(site, by=by, reason=reason, update_fields=changed)
    return site


def _check_site_dates(site: Site) -> None:
    """A site is activated only after its contract is executed and its SIV is held."""
    today = timezone.localdate()
    for name, label in (("contract_executed_on", "The contract"),
                        ("initiation_visit_on", "The initiation visit")):
        when = getattr(site, name)
        if when is None:
            continue
        if site.activated_on is not None and when > site.activated_on:
            raise ApplicationError(
                f"{label} cannot be dated after the site's activation "
                f"({format_date(site.activated_on)}).", field=name)
        if name == "initiation_visit_on" and when > today:
            raise ApplicationError("A site initiation visit is recorded once it has been held; "
                                   "the date cannot be in the future.", field=name)
