"""The roles and the one role → object-permissions table (DESIGN §4).

Trial-level codenames apply to the whole trial; site-level ones to a CRA's single site.
Sponsor viewers hold view permissions only: nothing here lets them write. Only the assignment
services (staffing) turn this table into permission rows.
"""

from django.db import models

from access.codenames import (
    CHANGE_ALL_SITES,
    CHANGE_SITE,
    CHANGE_TRIAL,
    MANAGE_STAFF,
    REPORT_SAFETY,
    REPORT_SITE_SAFETY,
    REVIEW_SAFETY,
    VIEW_ALL_SITES,
    VIEW_SITE,
    VIEW_TRIAL,
)


class Role(models.TextChoices):
    CRM = "CRM", "Clinical research manager"
    CRA = "CRA", "Clinical research associate"
    MEDICAL_MONITOR = "MEDICAL_MONITOR", "Medical monitor"
    SPONSOR_VIEWER = "SPONSOR_VIEWER", "Sponsor viewer"


TRIAL_WIDE: dict[str, frozenset[str]] = {
    Role.CRM: frozenset({VIEW_TRIAL, CHANGE_TRIAL, VIEW_ALL_SITES, CHANGE_ALL_SITES, MANAGE_STAFF}),
    Role.CRA: frozenset({VIEW_TRIAL, VIEW_ALL_SITES, CHANGE_ALL_SITES, REPORT_SAFETY}),
    Role.MEDICAL_MONITOR: frozenset({VIEW_TRIAL, VIEW_ALL_SITES, REVIEW_SAFETY, REPORT_SAFETY}),
    Role.SPONSOR_VIEWER: frozenset({VIEW_TRIAL, VIEW_ALL_SITES}),
}

# A CRA scoped to one site sees the trial, and only that site.
SITE_SCOPED_CRA_TRIAL = frozenset({VIEW_TRIAL})
SITE_SCOPED_CRA_SITE = frozenset({VIEW_SITE, CHANGE_SITE, REPORT_SITE_SAFETY})

# What a superuser holds on every trial.
EVERY_TRIAL_CODENAME = frozenset().union(*TRIAL_WIDE.values())


def permissions_for(role: str, *, site_scoped: bool) -> tuple[frozenset[str], frozenset[str]]:
    """(trial codenames, site codenames) that one assignment grants."""
    if site_scoped:
        if role != Role.CRA:
            raise ValueError("Only a CRA assignment can be scoped to a site")
        return SITE_SCOPED_CRA_TRIAL, SITE_SCOPED_CRA_SITE
    return TRIAL_WIDE[Role(role)], frozenset()
