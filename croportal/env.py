"""Strict readers for environment variables: a malformed value stops start-up with its name."""

import os
from urllib.parse import parse_qsl, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    return os.environ.get(name)


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(name: str, default: str) -> dict:
    value = _raw(name) or default
    scheme = value.split(":", 1)[0]
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql", "psql"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:/// URL, got scheme {scheme!r}"
        )
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # django-environ raises several types on bad URLs
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, got {value!r}")
    return config


def env_redis(name: str) -> str | None:
    value = _raw(name)
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"{name} must be a redis:// or rediss:// URL, got {value!r}")
    return value


def env_email(name: str, default: str) -> dict:
    """An e-mail URL: `smtp+tls://` (STARTTLS, port 587 unless given) or `smtp+ssl://` (TLS
    from the first byte, port 465 unless given), `smtp://` (port 25), `consolemail://`..."""
    value = _raw(name) or default
    try:
        config = environ.Env.email_url_config(value)
    except Exception as exc:
        raise ImproperlyConfigured(f"{name} is not a valid e-mail URL: {exc}") from None
    # The scheme, or ?email_use_tls= / ?email_use_ssl= in the query, says which one.
    for key in ("EMAIL_USE_TLS", "EMAIL_USE_SSL"):
        config[key] = str(config.get(key, False)).strip().lower() in _TRUE
    if config["EMAIL_USE_TLS"] and config["EMAIL_USE_SSL"]:
        raise ImproperlyConfigured(f"{name} asks for both TLS and SSL: choose one")
    if not config.get("EMAIL_PORT"):
        config["EMAIL_PORT"] = (465 if config["EMAIL_USE_SSL"]
                                else 587 if config["EMAIL_USE_TLS"] else 25)
    return config


S3_OPTIONS = ("endpoint_url", "region_name", "addressing_style", "signature_version")


def env_storage(name: str, *, folder) -> dict:
    """A private file storage as a URL: empty (a local folder, `folder`), `file:///path` (that
    folder), or `s3://bucket/prefix?endpoint_url=…&region_name=…` (object storage through
    django-storages; the credentials come from the AWS_* environment, never from the URL).
    Neither is ever served at a public URL: the files carry no `url`."""
    value = (_raw(name) or "").strip()
    if not value:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": folder, "base_url": None}}
    parts = urlsplit(value)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "file" and parts.path and not query:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": parts.path, "base_url": None}}
    if parts.scheme == "s3" and parts.netloc and not parts.username and set(query) <= set(
            S3_OPTIONS):
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": parts.netloc, "location": parts.path.strip("/") or "documents",
            "default_acl": "private", "querystring_auth": True, "file_overwrite": False,
            **query}}
    raise ImproperlyConfigured(
        f"{name} must be empty, file:///folder or s3://bucket/prefix (query options only "
        f"{', '.join(S3_OPTIONS)}; credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
