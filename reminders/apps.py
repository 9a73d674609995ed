from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RemindersConfig(AppConfig):
    name = "reminders"

    def ready(self) -> None:
        from croportal.lists import views as list_views
        from reminders.schedule import beat_schedule_sync_after_migrate
        from reminders.services.exports import export_job_start

        # Big list exports become jobs here (croportal.lists imports no app).
        list_views.big_export = export_job_start

        # Sent once per app; with sender=self this runs once per migrate, after every app's
        # migrations (django-celery-beat's tables included).
        post_migrate.connect(beat_schedule_sync_after_migrate, sender=self,
                             dispatch_uid="reminders.beat_schedule_sync")
