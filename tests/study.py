"""A small study, by factories: one trial with one site, its CRM and its CRA, and an
administrator, which most tests need. A test module that needs another shape defines its own
fixture of the same name (pytest resolves `site`'s `trial` in the module that asks)."""

import pytest

from staffing.models import Assignment
from tests.factories import AdminFactory, SiteFactory, TrialFactory, cra_of, crm_of


@pytest.fixture
def trial(db):
    return TrialFactory()


@pytest.fixture
def site(trial):
    return SiteFactory(trial=trial)


@pytest.fixture
def crm(trial):
    return crm_of(trial)


@pytest.fixture
def cra(site):
    return cra_of(site)


@pytest.fixture
def cra_assignment(cra):
    return Assignment.objects.get(user=cra)


@pytest.fixture
def admin(db):
    return AdminFactory()
