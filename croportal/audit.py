"""Audit trail plumbing (DESIGN §7, 21 CFR Part 11): reasons for change, append-only history."""

from collections.abc import Callable

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connection, models

from croportal.dbroles import runtime_privileges_grant
from croportal.exceptions import ApplicationError
from croportal.validation import check_model_dates

# What must follow every audited save, registered by the app that owns it (staffing: a change
# to a signed record invalidates its signatures). The project package imports no app.
_AFTER_SAVE: dict[str, Callable[..., object]] = {}


def after_audited_save(hook: Callable[..., object]) -> Callable[..., object]:
    """Call ``hook(instance=, by=, reason=)`` after every audited save, in its transaction."""
    _AFTER_SAVE[f"{hook.__module__}.{hook.__qualname__}"] = hook
    return hook


def audited_save(
    instance: models.Model, *, by, reason: str = "", update_fields: list[str] | None = None
) -> None:
    """Save a regulated record, recording who changed it and why; edits need a reason."""
    check_model_dates(instance)  # every door: 0001-01-01 or 9999-12-31 is a 400, not a 500
    reason = (reason or "").strip()
    if not instance._state.adding and not reason:
        raise ApplicationError("A reason for the change is required.", field="change_reason")
    if not instance._state.adding and hasattr(instance, "revision"):
        instance.revision += 1  # type: ignore[attr-defined]
        if update_fields is not None:
            update_fields = [*update_fields, "revision", "updated_at"]
    instance._history_user = by  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    try:
        instance.save(update_fields=update_fields)
    finally:
        # simple-history would reuse a stale reason on the instance's next save.
        del instance._change_reason  # type: ignore[attr-defined]
        del instance._history_user  # type: ignore[attr-defined]
    for hook in _AFTER_SAVE.values():
        hook(instance=instance, by=by, reason=reason)


def history_models() -> list[type[models.Model]]:
    """Every django-simple-history model of the portal's own apps."""
    own = {"staffing", "trials", "sites", "safety", "reminders"}
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in own and model.__name__.startswith("Historical")
    ]


# Rows written once and never changed, besides the history tables: triggers and grants.
# Registered by the app that owns them (staffing: signatures and their invalidations).
APPEND_ONLY_MODELS: dict[str, type[models.Model]] = {}


def register_append_only(*append_only: type[models.Model]) -> None:
    for model in append_only:
        APPEND_ONLY_MODELS[model._meta.label] = model


def append_only_tables() -> list[str]:
    """Every table whose rows may be inserted, never updated or deleted."""
    return [model._meta.db_table for model in history_models()] + [
        model._meta.db_table for model in APPEND_ONLY_MODELS.values()
    ]


APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION croportal_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION croportal_reason_required() RETURNS trigger AS $$
BEGIN
    IF NEW.history_type = '~' AND coalesce(btrim(NEW.history_change_reason), '') = '' THEN
        RAISE EXCEPTION 'a change to a regulated record needs a reason (%)', TG_TABLE_NAME
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def install_append_only_triggers(**kwargs) -> None:
    """post_migrate: on PostgreSQL, history and signature rows can be inserted, never changed."""
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in history_models()]
    statements = [APPEND_ONLY_SQL]
    for table in tables:
        statements.append(
            f'CREATE OR REPLACE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE '
            f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION croportal_append_only();'
        )
        statements.append(
            f'CREATE OR REPLACE TRIGGER "{table}_reason_required" BEFORE INSERT '
            f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION croportal_reason_required();'
        )
    for model in APPEND_ONLY_MODELS.values():
        signature_table = model._meta.db_table
        statements.append(
            f'CREATE OR REPLACE TRIGGER "{signature_table}_append_only" BEFORE UPDATE OR DELETE '
            f'ON "{signature_table}" FOR EACH ROW EXECUTE FUNCTION croportal_append_only();'
        )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    # The portal's own login may then only add rows to these tables (croportal/dbroles.py).
    runtime_privileges_grant(using=kwargs.get("using", DEFAULT_DB_ALIAS),
                             append_only=append_only_tables())


# Fields a trail does not compare: the row's own timestamps (the history row has its time).
AUDIT_IGNORED = frozenset({"created_at", "updated_at"})


def field_changes(newer, older) -> list[tuple[str, object, object]]:
    """(field, old, new) between two history rows of one record; all fields for the first."""
    fields = [f for f in newer.instance_type._meta.fields if f.name not in AUDIT_IGNORED]
    changes = []
    for field in fields:
        new_value = getattr(newer, field.attname)
        old_value = getattr(older, field.attname) if older is not None else None
        if older is None or new_value != old_value:
            changes.append((field.verbose_name, old_value, new_value))
    return changes
