"""`migrate` as the owner role (DATABASE_OWNER_URL): it alone may change the schema, and its
post_migrate grants the runtime role (DATABASE_URL) its privileges (croportal/dbroles.py)."""

from django.core.management.commands import migrate

from croportal.dbroles import as_owner


class Command(migrate.Command):
    help = f"{migrate.Command.help} Runs as the database owner role (DATABASE_OWNER_URL)."

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
