"""A trial's enrollment forecast is computed once per change of its inputs (trials.
forecast_cache): pages reuse the stored one, and a subject enrolled, a site opened, a milestone
moved or the next day makes it computed again, equal to a fresh computation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboards import enrollment
from dashboards.enrollment import enrollment_of, portfolio
from sites.models import Site
from tests.dashboards.test_enrollment import plan
from tests.factories import SubjectFactory
from trials.models import TrialForecast
from trials.selectors import trials_visible_to, trials_with_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(monkeypatch):
    """The trial ids whose forecast was computed, in order."""
    calls = []
    real = enrollment.trial_forecast

    def counting(*, trial, **kwargs):
        calls.append(trial.pk)
        return real(trial=trial, **kwargs)

    monkeypatch.setattr(enrollment, "trial_forecast", counting)
    return calls


def test_a_forecast_is_computed_once_per_change_of_its_inputs(world, computed):
    today = timezone.localdate()
    plan(world, today, fpi_days_ago=30, lpi_in_days=300)
    trial = world.trial_a
    first = enrollment_of(trial=trial, sites=Site.objects.all(), today=today)
    assert computed == [trial.pk]
    assert first.forecast is not None
    again = enrollment_of(trial=trial, sites=Site.objects.all(), today=today)
    rows = portfolio(trials=list(trials_with_counts(queryset=trials_visible_to(user=world.crm))),
                     overdue_by_trial={}, today=today)
    assert computed == [trial.pk]  # reused by the trial page and the portfolio
    assert again.forecast == first.forecast == rows[0].forecast
    assert TrialForecast.objects.get(trial=trial).note == first.forecast_method_note

    SubjectFactory(site=world.site_a1, enrolled=True)  # an input changes
    changed = enrollment_of(trial=trial, sites=Site.objects.all(), today=today)
    assert computed == [trial.pk, trial.pk]
    assert changed.forecast.remaining == first.forecast.remaining - 1
    tomorrow = enrollment_of(trial=trial, sites=Site.objects.all(),
                             today=today + timedelta(days=1))
    assert computed == [trial.pk, trial.pk, trial.pk]
    assert tomorrow.forecast is not None


def test_the_stored_forecast_equals_a_fresh_one(world, computed):
    today = timezone.localdate()
    plan(world, today, fpi_days_ago=30, lpi_in_days=300)
    enrollment_of(trial=world.trial_a, sites=Site.objects.all(), today=today)
    reused = enrollment_of(trial=world.trial_a, sites=Site.objects.all(), today=today)
    TrialForecast.objects.all().delete()
    fresh = enrollment_of(trial=world.trial_a, sites=Site.objects.all(), today=today)
    assert len(computed) == 2
    assert reused.forecast == fresh.forecast
    assert reused.forecast_method_note == fresh.forecast_method_note
