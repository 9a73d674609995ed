from django.db.models import Q, QuerySet
from django.utils import timezone

from staffing.models import Assignment, Role, User
from trials.selectors import trial_ids_with


def assignments_visible_to(*, user) -> QuerySet[Assignment]:
    """Your own assignments, and every assignment on a trial whose staff you manage."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    if user.is_superuser:
        return Assignment.objects.all()
    return Assignment.objects.filter(
        Q(user=user) | Q(trial__in=trial_ids_with(user=user, codename="manage_staff"))
    )


def active_assignments_of(*, user: User) -> QuerySet[Assignment]:
    return (
        Assignment.objects.active_on(timezone.localdate())
        .filter(user=user)
        .select_related("trial", "site")
    )


def roles_of(*, user) -> set[str]:
    """The roles the user holds today on any trial (drives navigation and the home page)."""
    if not user.is_authenticated:
        return set()
    return set(active_assignments_of(user=user).values_list("role", flat=True))


ROLE_ORDER = [Role.CRM, Role.CRA, Role.MEDICAL_MONITOR, Role.SPONSOR_VIEWER]
