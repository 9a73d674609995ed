"""EMAIL_URL: `smtp+ssl://` is implicit TLS (EMAIL_USE_SSL, port 465 by default),
`smtp+tls://` STARTTLS (EMAIL_USE_TLS, port 587); both at once stops start-up."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.smtp import EmailBackend

SETTINGS = Path(__file__).resolve().parents[2] / "croportal" / "settings.py"


def read_settings(monkeypatch, email_url: str) -> dict:
    monkeypatch.setenv("EMAIL_URL", email_url)
    return runpy.run_path(str(SETTINGS))


def email_of(settings: dict) -> tuple:
    return tuple(settings[name] for name in ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT",
                                             "EMAIL_HOST_USER", "EMAIL_USE_TLS", "EMAIL_USE_SSL"))


SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp+ssl://portal:secret@mail.example.org", (SMTP, "mail.example.org", 465, "portal",
                                                   False, True)),
    ("smtp+ssl://mail.example.org:2465", (SMTP, "mail.example.org", 2465, "", False, True)),
    ("smtp+tls://portal:secret@mail.example.org:587", (SMTP, "mail.example.org", 587, "portal",
                                                       True, False)),
    ("smtp+tls://mail.example.org", (SMTP, "mail.example.org", 587, "", True, False)),
    ("smtp://mail.example.org", (SMTP, "mail.example.org", 25, "", False, False)),
])
def test_the_scheme_decides_ssl_or_tls_and_the_default_port(monkeypatch, url, expected):
    assert email_of(read_settings(monkeypatch, url)) == expected


def test_django_smtp_backend_connects_with_ssl_from_an_ssl_url(monkeypatch, settings):
    values = read_settings(monkeypatch, "smtp+ssl://portal:secret@mail.example.org")
    for name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
                 "EMAIL_USE_TLS", "EMAIL_USE_SSL"):
        setattr(settings, name, values[name])
    backend = EmailBackend()
    assert (backend.use_ssl, backend.use_tls, backend.port) == (True, False, 465)
    assert backend.connection_class.__name__ == "SMTP_SSL"


def test_the_console_default_uses_neither(monkeypatch):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    values = runpy.run_path(str(SETTINGS))
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert (values["EMAIL_USE_TLS"], values["EMAIL_USE_SSL"]) == (False, False)


def test_asking_for_both_tls_and_ssl_stops_start_up_naming_the_variable(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL asks for both TLS and SSL"):
        read_settings(monkeypatch, "smtp+tls://mail.example.org?email_use_ssl=true")
