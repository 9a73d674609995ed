from reminders.selectors import unread_count
from staffing.models import Role
from staffing.selectors import roles_of


def navigation(request) -> dict:
    """Role-aware navigation: which sections the signed-in user's roles open, and the unread
    count. Worked out once a request: every table of a page is rendered in a context of its
    own (django-tables2's render_table), which runs the context processors again."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_roles": set()}
    known = getattr(request, "_portal_navigation", None)
    if known is not None:
        return known
    roles = roles_of(user=user)
    request._portal_navigation = {
        "nav_roles": roles,
        "nav_is_crm": Role.CRM in roles,
        "nav_is_cra": Role.CRA in roles,
        "nav_is_monitor": Role.MEDICAL_MONITOR in roles or user.is_superuser,
        "nav_is_sponsor": Role.SPONSOR_VIEWER in roles,
        "nav_is_admin": user.is_staff,
        "nav_unread": unread_count(user=user),
    }
    return request._portal_navigation
