"""A person's own profile: the name every list and signature shows, the zone they read in."""

from functools import lru_cache
from zoneinfo import available_timezones

from django.db import transaction

from croportal.concurrency import apply_fields
from croportal.exceptions import ApplicationError
from staffing.models import User

PROFILE_FIELDS = frozenset({"first_name", "last_name", "timezone"})
NAME_LENGTH = 150  # AbstractUser's first_name and last_name


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone the tz database on this machine knows, sorted (the profile's choices)."""
    return tuple(sorted(available_timezones()))


@transaction.atomic
def user_profile_update(*, user: User, by: User, first_name: str, last_name: str,
                        timezone: str) -> User:
    """Set a person's own first and last name and time zone; nobody edits another's."""
    if by.pk != user.pk:
        raise ApplicationError("People change only their own profile.", status=403)
    names = {"first_name": (first_name or "").strip(), "last_name": (last_name or "").strip()}
    for field, value in names.items():
        if len(value) > NAME_LENGTH or "\x00" in value:
            raise ApplicationError(f"At most {NAME_LENGTH} characters, and no NUL character.",
                                   field=field)
    if not any(names.values()):
        raise ApplicationError("Give your name: lists and signatures show it.",
                               field="first_name")
    if timezone not in time_zone_names():
        raise ApplicationError(f"“{timezone[:64]}” is not a time zone this portal knows.",
                               field="timezone")
    locked = User.objects.select_for_update().get(pk=user.pk)
    changed = apply_fields(locked, {**names, "timezone": timezone}, editable=PROFILE_FIELDS)
    if changed:
        locked.save(update_fields=changed)
    return locked
