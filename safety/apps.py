from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"

    def ready(self) -> None:
        from croportal.audit import register_append_only
        from safety.models import CaseVersion

        # A case's timeline is its record of what was known when: never edited, never deleted.
        register_append_only(CaseVersion)
