"""`flush` as the owner role (DATABASE_OWNER_URL): the runtime role may not TRUNCATE, and the
post_migrate that follows re-installs the triggers and grants. pytest-django's transactional
tests call it between tests."""

from django.core.management.commands import flush

from croportal.dbroles import as_owner


class Command(flush.Command):
    help = f"{flush.Command.help} Runs as the database owner role (DATABASE_OWNER_URL)."

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
