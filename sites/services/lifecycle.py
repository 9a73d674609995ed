"""A site's lifecycle (DOMAIN B §8) and its activation checklist of essential documents (B §7)."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from croportal.audit import audited_save
from croportal.concurrency import lock_for_update
from croportal.exceptions import ApplicationError
from croportal.formats import format_date
from croportal.lifecycle import check_transition
from sites.models import (
    DocumentKind,
    DocumentStatus,
    EssentialDocument,
    Site,
    SiteStatus,
)
from sites.services.sites import _check_site_dates
from staffing.models import User
from trials.models import Trial

SITE_TRANSITIONS: dict[str, frozenset[str]] = {
    SiteStatus.IDENTIFIED: frozenset({SiteStatus.QUALIFIED, SiteStatus.CLOSED}),
    SiteStatus.QUALIFIED: frozenset({SiteStatus.SELECTED, SiteStatus.CLOSED}),
    SiteStatus.SELECTED: frozenset({SiteStatus.INITIATED, SiteStatus.CLOSED}),
    SiteStatus.INITIATED: frozenset({SiteStatus.ACTIVE, SiteStatus.CLOSED}),
    SiteStatus.ACTIVE: frozenset({SiteStatus.ON_HOLD, SiteStatus.CLOSED}),
    SiteStatus.ON_HOLD: frozenset({SiteStatus.ACTIVE, SiteStatus.CLOSED}),
    SiteStatus.CLOSED: frozenset(),
}


# Documents every site needs before activation; IND trials add the FDA forms (21 CFR 312.53).
REQUIRED_DOCUMENTS: tuple[str, ...] = (
    DocumentKind.INVESTIGATOR_BROCHURE, DocumentKind.SIGNED_PROTOCOL,
    DocumentKind.ETHICS_APPROVAL, DocumentKind.REGULATORY_APPROVAL,
    DocumentKind.INFORMED_CONSENT_FORM, DocumentKind.INVESTIGATOR_CV,
    DocumentKind.LAB_CERTIFICATION, DocumentKind.LAB_NORMAL_RANGES,
)


REQUIRED_FOR_IND: tuple[str, ...] = (
    DocumentKind.FORM_FDA_1572, DocumentKind.FINANCIAL_DISCLOSURE,
)


def required_document_kinds(*, trial: Trial) -> tuple[str, ...]:
    return REQUIRED_DOCUMENTS + (REQUIRED_FOR_IND if trial.ind_number else ())


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    detail: str = ""


@dataclass(frozen=True)
class Checklist:
    items: tuple[ChecklistItem, ...]

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def missing(self) -> list[str]:
        return [item.label for item in self.items if not item.done]


def site_checklist(*, site: Site, documents: list[EssentialDocument],
                   today: date | None = None) -> Checklist:
    """The activation checklist from the site's documents (already fetched: no queries)."""
    today = today or timezone.localdate()
    items = []
    for kind in required_document_kinds(trial=site.trial):
        of_kind = [d for d in documents if d.kind == kind and d.status == DocumentStatus.APPROVED]
        current = [d for d in of_kind if d.is_current(today)]
        if current:
            expires = min((d.expires_on for d in current if d.expires_on), default=None)
            detail = f"current, expires {format_date(expires)}" if expires else "current"
        elif of_kind:
            detail = "expired or not yet effective"
        else:
            detail = "missing"
        items.append(ChecklistItem(f"document:{kind}", DocumentKind(kind).label, bool(current),
                                   detail))
    contract, siv = site.contract_executed_on, site.initiation_visit_on
    items.append(ChecklistItem(
        "contract", "Clinical trial agreement executed", contract is not None,
        f"executed {format_date(contract)}" if contract else "not yet",
    ))
    items.append(ChecklistItem(
        "initiation_visit", "Site initiation visit done", siv is not None,
        f"done {format_date(siv)}" if siv else "not yet",
    ))
    return Checklist(tuple(items))


def site_transitions_from(*, site: Site) -> list[str]:
    return [s for s in SiteStatus.values if s in SITE_TRANSITIONS[site.status]]


def _check_site_transition(site: Site, to: str) -> None:
    check_transition(what="site", statuses=SiteStatus, current=site.status, to=to,
                     allowed=site_transitions_from(site=site))
    if to == SiteStatus.ACTIVE:
        checklist = site_checklist(site=site, documents=list(site.documents.all()))
        if not checklist.complete:
            raise ApplicationError(
                "The activation checklist is not complete: " + "; ".join(checklist.missing)
                + ".", field="status",
            )


def _apply_site_status(site: Site, to: str) -> None:
    if to == SiteStatus.ACTIVE and site.activated_on is None:
        site.activated_on = timezone.localdate()
    site.status = to


@transaction.atomic
def site_transition(*, site: Site, to: str, by: User, reason: str,
                    expected_revision: int | None = None, on: date | None = None) -> Site:
    """Move a site along its lifecycle; `active` needs a complete activation checklist. The
    activation is dated today, or `on` (the day it happened, never in the future)."""
    site = lock_for_update(site, expected_revision=expected_revision, related=("trial",))
    _check_site_transition(site, to)
    if to == SiteStatus.ACTIVE and on is not None and site.activated_on is None:
        if on > timezone.localdate():
            raise ApplicationError("A site cannot be activated in the future.", field="on")
        site.activated_on = on
    _apply_site_status(site, to)
    _check_site_dates(site)
    audited_save(site, by=by, reason=reason, update_fields=["status", "activated_on"])
    return site
