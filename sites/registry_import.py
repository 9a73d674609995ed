"""The sites of a trial imported from a registry record (ClinicalTrials.gov locations).

The import itself lives in trials (``trials.ctgov.importing``), which sits below sites and does
not import it; this app registers the writer below when it starts (``SitesConfig.ready``).
"""

from collections.abc import Callable

from django.conf import settings
from simple_history.utils import bulk_create_with_history

from sites.models import Site, SiteStatus


def sites_create_from_registry(*, trial, locations: list, by, reason: str,
                               report: Callable[[int], None]) -> None:
    """Bulk-insert one selected site per location (and their history rows) in batches,
    reporting the number written after each batch."""
    width = max(3, len(str(len(locations))))  # "001"…; "0001"… past 999, so numbers sort
    size = settings.CTGOV_IMPORT_BATCH_SIZE
    for start in range(0, len(locations), size):
        batch = [
            Site(trial=trial, number=f"{start + offset + 1:0{width}d}",
                 institution=location.institution, city=location.city,
                 country=location.country or "", status=SiteStatus.SELECTED, target_enrollment=0)
            for offset, location in enumerate(locations[start:start + size])
        ]
        bulk_create_with_history(batch, Site, batch_size=size, default_user=by,
                                 default_change_reason=reason)
        report(start + len(batch))
