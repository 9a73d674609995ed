"""Checks a serving process makes before it answers: a misconfiguration that would turn every
page into a 500 stops start-up instead, saying what to do."""

from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages


def static_files_missing() -> str | None:
    """Why pages cannot render their static files (the manifest storage, used when DEBUG is
    false, finds no manifest: collectstatic has not run), or None."""
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return None
    if storage.manifest_storage.exists(storage.manifest_name):
        return None
    where = storage.manifest_storage.path(storage.manifest_name)
    return (f"The static files are not collected ({where} is missing), so every page would "
            "answer 500. Run `python manage.py collectstatic --noinput` (the Docker image does "
            "it when it is built), or set DEBUG=true for development.")


def check_before_serving() -> None:
    if (problem := static_files_missing()) is not None:
        raise ImproperlyConfigured(problem)
