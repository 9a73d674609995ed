from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: raised by every audited save; the API's ETag and the forms'
    # hidden `version` carry it, and a stale write is refused (croportal.concurrency).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True
