"""Every object-permission codename the portal grants, named once (DESIGN §4).

No other module spells a codename: a test reads the apps' source and fails on a literal.
"""

# Trial-level (rows of trials.TrialUserObjectPermission).
VIEW_TRIAL = "view_trial"
CHANGE_TRIAL = "change_trial"
VIEW_ALL_SITES = "view_all_sites"
CHANGE_ALL_SITES = "change_all_sites"
MANAGE_STAFF = "manage_staff"
REVIEW_SAFETY = "review_safety"
REPORT_SAFETY = "report_adverse_events"  # enter adverse events at any site of the trial

# Site-level (rows of sites.SiteUserObjectPermission), for a CRA scoped to one site.
VIEW_SITE = "view_site"
CHANGE_SITE = "change_site"
REPORT_SITE_SAFETY = "report_site_adverse_events"  # enter adverse events at this site

# Model-level: who may create trials at all (a CRM, given by an administrator).
ADD_TRIAL = "add_trial"
ADD_TRIAL_PERM = f"trials.{ADD_TRIAL}"

TRIAL_CODENAMES = frozenset({
    VIEW_TRIAL, CHANGE_TRIAL, VIEW_ALL_SITES, CHANGE_ALL_SITES, MANAGE_STAFF, REVIEW_SAFETY,
    REPORT_SAFETY,
})
SITE_CODENAMES = frozenset({VIEW_SITE, CHANGE_SITE, REPORT_SITE_SAFETY})
ALL_CODENAMES = TRIAL_CODENAMES | SITE_CODENAMES | {ADD_TRIAL}

# The custom trial permissions (Trial.Meta.permissions); view/change come with the model.
TRIAL_EXTRA_PERMISSIONS = [
    (VIEW_ALL_SITES, "Can view every site of the trial"),
    (CHANGE_ALL_SITES, "Can change every site of the trial"),
    (MANAGE_STAFF, "Can assign and end staff on the trial"),
    (REVIEW_SAFETY, "Can medically review the trial's adverse events"),
    (REPORT_SAFETY, "Can enter adverse events at the trial's sites"),
]
# The custom site permissions (Site.Meta.permissions).
SITE_EXTRA_PERMISSIONS = [
    (REPORT_SITE_SAFETY, "Can enter adverse events at the site"),
]
