"""The safety tests' people and subject: the trial's medical monitor, and an enrolled subject
at the study's site (the trial itself is each module's: its IND/EU numbers and safety zone are
what the module is about)."""

import pytest

from tests.factories import SubjectFactory, monitor_of


@pytest.fixture
def monitor(trial):
    return monitor_of(trial)


@pytest.fixture
def subject(site):
    return SubjectFactory(site=site, enrolled=True)
