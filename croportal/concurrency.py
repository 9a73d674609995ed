"""Optimistic concurrency: every regulated record carries a `revision`; a write names the one
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
            f"revision {current}). Reload it and apply your change again.",
            field="revision", status=status,
        )
        self.current = current


def lock_for_update(instance: M, *, expected_revision: int | None = None,
                    related: tuple[str, ...] = ()) -> M:
    """The row as it is now, locked until the transaction ends (its related rows are read,
    not locked); refuse a stale write."""
    rows = type(instance)._default_manager.all()
    if related:
        rows = rows.select_related(*related).select_for_update(of=("self",))
    else:
        rows = rows.select_for_update()
    locked = rows.get(pk=instance.pk)
    if expected_revision is not None and locked.revision != expected_revision:  # type: ignore[attr-defined]
        raise StaleWrite(current=locked.revision)  # type: ignore[attr-defined]
    return locked


def apply_fields(instance: models.Model, fields: dict, *, editable: Iterable[str]) -> list[str]:
    """Set the editable fields given; the names of those whose value changed."""
    allowed = set(editable)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ApplicationError(f"“{unknown[0]}” cannot be changed here.", field=unknown[0])
    changed = []
    for name, value in fields.items():
        field = instance._meta.get_field(name)
        if field.is_relation:  # compare ids: an unsaved record has no related row yet
            before, after = getattr(instance, field.attname), getattr(value, "pk", value)
        else:
            before, after = getattr(instance, name), value
        if instance._state.adding or before != after:
            setattr(instance, name, value)
            changed.append(name)
    return changed
