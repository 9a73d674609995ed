from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffingConfig(AppConfig):
    name = "staffing"
    verbose_name = "Staffing"

    def ready(self) -> None:
        from croportal.audit import install_append_only_triggers

        post_migrate.connect(install_append_only_triggers, sender=self)
