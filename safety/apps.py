from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"

    def ready(self) -> None:
        from croportal.audit import after_audited_save, register_append_only
        from safety.models import CaseVersion
        from safety.services.trial_settings import trial_safety_settings_changed

        # A case's timeline is its record of what was known when: never edited, never deleted.
        register_append_only(CaseVersion)
        # A trial's IND/EU number, safety zone, review setting or DIBD changed, at any door.
        after_audited_save(trial_safety_settings_changed)
