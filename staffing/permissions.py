"""The one role → object-permissions table (DESIGN §4). Only the assignment services read it.

Trial-level codenames apply to the whole trial; site-level ones to a CRA's single site.
Sponsor viewers hold view permissions only: nothing here lets them write.
"""

from staffing.models import Role

TRIAL_WIDE: dict[str, frozenset[str]] = {
    Role.CRM: frozenset(
        {"view_trial", "change_trial", "view_all_sites", "change_all_sites", "manage_staff"}
    ),
    Role.CRA: frozenset({"view_trial", "view_all_sites", "change_all_sites"}),
    Role.MEDICAL_MONITOR: frozenset({"view_trial", "view_all_sites", "review_safety"}),
    Role.SPONSOR_VIEWER: frozenset({"view_trial", "view_all_sites"}),
}

# A CRA scoped to one site sees the trial, and only that site.
SITE_SCOPED_CRA_TRIAL = frozenset({"view_trial"})
SITE_SCOPED_CRA_SITE = frozenset({"view_site", "change_site"})


def permissions_for(role: str, *, site_scoped: bool) -> tuple[frozenset[str], frozenset[str]]:
    """(trial codenames, site codenames) that one assignment grants."""
    if site_scoped:
        if role != Role.CRA:
            raise ValueError("Only a CRA assignment can be scoped to a site")
        return SITE_SCOPED_CRA_TRIAL, SITE_SCOPED_CRA_SITE
    return TRIAL_WIDE[Role(role)], frozenset()
