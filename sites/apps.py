from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "sites"

    def ready(self) -> None:
        from sites.registry_import import sites_create_from_registry
        from trials.ctgov.importing import register_site_writer

        register_site_writer(sites_create_from_registry)
