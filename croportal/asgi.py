import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "croportal.settings")
application = get_asgi_application()

from croportal.startup import check_before_serving  # noqa: E402 (needs the settings)

check_before_serving()
