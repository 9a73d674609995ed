"""Writes of the reminders engine: deadlines, the sweep's claims, deliveries, digests, feeds."""

from reminders.services.deadlines import (
    MAX_STAGE_OFFSET,
    deadline_close,
    deadline_complete,
    deadline_create_manual,
    deadline_reassign,
    deadline_upsert,
    logger,
    policies,
)
from reminders.services.delivery import (
    absolute_url,
    preference_of,
    reminder_deliver,
    reminder_fail,
    reminder_message,
    reminder_record_error,
)
from reminders.services.digests import (
    digest_send,
    digests_send,
)
from reminders.services.feeds import (
    calendar_feed_regenerate,
    calendar_feed_revoke,
    calendar_secret_hash,
)
from reminders.services.notifications import (
    notification_mark_read,
    notifications_mark_all_read,
    preferences_update,
)
from reminders.services.sweep import (
    CLAIM_ROW,
    CLAIM_SQL,
    due_deadlines,
    reminders_claim,
    reminders_mark_dispatched,
    reminders_stale,
)

__all__ = [
    "CLAIM_ROW",
    "CLAIM_SQL",
    "MAX_STAGE_OFFSET",
    "absolute_url",
    "calendar_feed_regenerate",
    "calendar_feed_revoke",
    "calendar_secret_hash",
    "deadline_close",
    "deadline_complete",
    "deadline_create_manual",
    "deadline_reassign",
    "deadline_upsert",
    "digest_send",
    "digests_send",
    "due_deadlines",
    "logger",
    "notification_mark_read",
    "notifications_mark_all_read",
    "policies",
    "preference_of",
    "preferences_update",
    "reminder_deliver",
    "reminder_fail",
    "reminder_message",
    "reminder_record_error",
    "reminders_claim",
    "reminders_mark_dispatched",
    "reminders_stale",
]
