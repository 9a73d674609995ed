from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: raised by every audited save; the API's ETag and the forms'
    # hidden `revision` carry it, and a stale write is refused (croportal.concurrency).
    # ("version" is taken: documents, amendments and ICFs have version labels.)
    revision = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True
