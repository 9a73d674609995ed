from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from croportal.exceptions import ApplicationError
from safety.ctcae import read_nci_file
from safety.services import ctcae_load


class Command(BaseCommand):
    help = "Load NCI's full CTCAE v5.0 file (CSV or XLSX), grade definitions included."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            rows = read_nci_file(path)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        if not rows:
            raise CommandError(f"{path} holds no CTCAE terms.")
        created, updated = ctcae_load(rows=rows)
        self.stdout.write(f"CTCAE v5.0: {created} terms added, {updated} updated from {path}.")
