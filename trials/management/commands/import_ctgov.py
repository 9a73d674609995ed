from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from croportal.exceptions import ApplicationError
from staffing.models import Organisation, User
from trials.ctgov import CtgovRecord
from trials.ctgov.importing import ctgov_confirm, ctgov_preview, ctgov_run
from trials.models import Phase

OPTIONS = {"phase": "--phase", "sponsor": "--sponsor", "sponsor_name": "--sponsor"}


class Command(BaseCommand):
    help = ("Create a trial, its milestones and its sites from a ClinicalTrials.gov record "
            "(API v2 JSON or legacy XML), in this process: no Celery broker is needed.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--sponsor", default="", help="the sponsor organisation's name, "
                            "existing or new (default: the record's lead sponsor)")
        parser.add_argument("--crm", default="", metavar="USERNAME", help="the importing CRO "
                            "user, who becomes the trial's CRM (default: the first superuser)")
        parser.add_argument("--phase", choices=Phase.values,
                            help="the phase, required when the record gives none")

    def handle(self, *args, file: Path, sponsor: str, crm: str, phase: str | None, **options):
        by = self._importer(crm)
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            with transaction.atomic():  # a refused confirmation leaves no preview behind
                job = ctgov_preview(data=data, filename=_printable(file.name), by=by)
                record = CtgovRecord.from_dict(job.record)
                ctgov_confirm(job=job, by=by, sponsor=None, phase=phase, enqueue=False,
                              sponsor_name=sponsor or record.lead_sponsor)
        except ApplicationError as error:
            option = OPTIONS.get(error.field or "")
            raise CommandError(f"{error.message}{f' (use {option})' if option else ''}") from None
        for warning in record.warnings:
            self.stderr.write(f"Warning: {warning}")
        trial = ctgov_run(job_id=job.pk)
        if trial is None:
            job.refresh_from_db()
            raise CommandError(job.error or "The import did not run.")
        skipped = record.skipped_locations
        detail = "; ".join(f"{loc.institution}, {loc.city} ({loc.country_name or 'no country'})"
                           for loc in skipped)
        self.stdout.write(
            f"Imported {record.nct_id} as trial {trial.protocol_number} with "
            f"{trial.sites.count()} sites ({len(skipped)} locations skipped"
            f"{': ' + detail if skipped else ''})."
        )

    def _importer(self, username: str) -> User:
        if not username:
            user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if user is None:
                raise CommandError("There is no active superuser to import as: give --crm.")
            return user
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user “{username}”.")
        if user.organisation is None or user.organisation.kind != Organisation.Kind.CRO:
            raise CommandError(f"“{username}” is not CRO staff, so cannot be the trial's CRM.")
        return user


def _printable(name: str) -> str:
    """A file name fit for the database: a name of non-UTF-8 bytes comes as lone surrogates
    (Python's surrogateescape), which PostgreSQL cannot store; NUL cannot occur in a path."""
    return name.encode("utf-8", "replace").decode("utf-8")
