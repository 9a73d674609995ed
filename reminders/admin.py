from django import forms
from django.contrib import admin

from croportal.admin import ReadOnlyAdmin
from reminders.models import Deadline, Notification, Reminder, ReminderPolicy


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    """Deadlines belong to the services that keep them; the admin shows, flags, filters."""

    list_display = ("title", "kind", "trial", "owner", "due_at", "state", "next_reminder_at",
                    "delivery_failed_at")
    list_filter = ("kind", "state", ("delivery_failed_at", admin.EmptyFieldListFilter))
    list_select_related = ("trial", "owner")
    search_fields = ("title",)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("deadline", "recipient", "stage", "scheduled_for", "state", "attempts",
                    "last_error")
    list_filter = ("state", "stage")
    list_select_related = ("deadline", "recipient")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "message", "created_at", "read_at")
    list_select_related = ("user",)


class ReminderPolicyForm(forms.ModelForm):
    class Meta:
        model = ReminderPolicy
        fields = ("kind", "before_hours", "remind_at_due", "overdue_every_hours",
                  "escalate_after_hours")

    def clean_before_hours(self):
        value = self.cleaned_data["before_hours"]
        if not isinstance(value, list) or not all(
            isinstance(h, int | float) and not isinstance(h, bool) and h > 0 for h in value
        ):
            raise forms.ValidationError("A list of positive numbers of hours, e.g. [168, 24].")
        return value


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    """Overrides of a kind's stages; they apply from each deadline's next reminder on."""

    form = ReminderPolicyForm
    list_display = ("kind", "before_hours", "remind_at_due", "overdue_every_hours",
                    "escalate_after_hours")
