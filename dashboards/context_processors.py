from reminders.selectors import unread_count
from staffing.models import Role
from staffing.selectors import roles_of


def navigation(request) -> dict:
    """Role-aware navigation: which sections the signed-in user's roles open (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_roles": set()}
    roles = roles_of(user=user)
    return {
        "nav_roles": roles,
        "nav_is_crm": Role.CRM in roles,
        "nav_is_cra": Role.CRA in roles,
        "nav_is_monitor": Role.MEDICAL_MONITOR in roles or user.is_superuser,
        "nav_is_sponsor": Role.SPONSOR_VIEWER in roles,
        "nav_is_admin": user.is_staff,
        "nav_unread": unread_count(user=user),
    }
