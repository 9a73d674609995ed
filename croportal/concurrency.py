"""Optimistic concurrency: every regulated record carries a `version`; a write names the version
it was based on (API `If-Match`, a form's hidden field) and a stale one is refused, never
silently applied over someone else's change. Services lock the row they change."""

from collections.abc import Iterable
from typing import TypeVar

from django.db import models

from croportal.exceptions import ApplicationError

M = TypeVar("M", bound=models.Model)


class StaleWrite(ApplicationError):
    """The record changed since the caller read it (412 with If-Match, 409 from a form)."""

    def __init__(self, *, current: int, status: int = 412) -> None:
        super().__init__(
            "This record was changed by someone else since you opened it (it is now at "
            f"version {current}). Reload it and apply your change again.",
            field="version", status=status,
        )
        self.current = current


def lock_for_update(instance: M, *, expected_version: int | None = None) -> M:
    """The row as it is now, locked until the transaction ends; refuse a stale write."""
    locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    if expected_version is not None and locked.version != expected_version:  # type: ignore[attr-defined]
        raise StaleWrite(current=locked.version)  # type: ignore[attr-defined]
    return locked


def apply_fields(instance: models.Model, fields: dict, *, editable: Iterable[str]) -> list[str]:
    """Set the editable fields given; the names of those whose value changed."""
    allowed = set(editable)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ApplicationError(f"“{unknown[0]}” cannot be changed here.", field=unknown[0])
    changed = []
    for name, value in fields.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed
