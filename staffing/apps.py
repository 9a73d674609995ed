from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffingConfig(AppConfig):
    name = "staffing"
    verbose_name = "Staffing"

    def ready(self) -> None:
        from croportal.audit import (
            after_audited_save,
            install_append_only_triggers,
            register_append_only,
        )
        from staffing.models import Signature, SignatureInvalidation
        from staffing.services import signatures_invalidate_if_changed

        register_append_only(Signature, SignatureInvalidation)
        post_migrate.connect(install_append_only_triggers, sender=self)
        after_audited_save(signatures_invalidate_if_changed)
