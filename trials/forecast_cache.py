"""Enrollment forecasts computed once per change of their inputs, never once per page.

A forecast (trials.forecast: a fit across the sites, a seeded Monte Carlo) costs 5-15 ms a
trial; a portfolio of ten trials paid that on every load. The caller gives each trial's
fingerprint (a digest of everything the forecast reads, the day included) and how to compute
it; stored forecasts whose fingerprint still matches are reused, the others computed and
stored (TrialForecast, shared by every web process). Any change of the inputs — a subject
screened or enrolled, a site opened, a milestone moved, the next day — changes the
fingerprint, whichever door it came through.
"""

import dataclasses
import hashlib
from collections.abc import Callable

from django.utils import timezone

from trials.forecast import Forecast
from trials.models import TrialForecast

Computed = tuple[Forecast | None, str]


def fingerprint(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def forecasts_cached(*, inputs: dict[int, str],
                     compute: Callable[[int], Computed]) -> dict[int, Computed]:
    """Each trial's (forecast, note): stored when `inputs[trial_id]` matches, else computed
    by `compute(trial_id)` and stored. One query to read, one to write what changed."""
    stored = {row.trial_id: row for row in TrialForecast.objects.filter(trial_id__in=inputs)}
    results: dict[int, Computed] = {}
    fresh = []
    for trial_id, key in inputs.items():
        row = stored.get(trial_id)
        if row is not None and row.inputs == key:
            results[trial_id] = (Forecast(**row.result) if row.result else None, row.note)
            continue
        forecast, note = results[trial_id] = compute(trial_id)
        fresh.append(TrialForecast(
            trial_id=trial_id, inputs=key, note=note[:300], computed_at=timezone.now(),
            result=dataclasses.asdict(forecast) if forecast is not None else None))
    if fresh:
        TrialForecast.objects.bulk_create(
            fresh, update_conflicts=True, unique_fields=["trial"],
            update_fields=["inputs", "result", "note", "computed_at"])
    return results
