"""factory_boy factories: the few rows a test needs, made by the portal's own services.

Regulated rows are created through their services (`trial_create`, `site_create`,
`subject_create`, `document_create`, ...), so they carry their audit history and open the
deadlines the portal would open. Rows start in their initial state; a status moves only through
its transition service (or the shortcut the world fixture uses, `activate_site`).

Personas are granted through the real assignment service, as the world fixture does:

    trial = TrialFactory()
    site = SiteFactory(trial=trial, activated=True)
    crm, cra = crm_of(trial), cra_of(site)
    outsider = sponsor_viewer_of(TrialFactory())  # another sponsor's trial

The default author of every record (`by`) is one administrator outside any organisation, so a
factory-made trial has no CRM until a test assigns one (`trial_create` makes a CRO author its
CRM: pass `by=` a CRO user for that).
"""

from datetime import UTC, date, datetime, timedelta

import factory
from django.conf import settings
from django.utils import timezone
from factory.django import DjangoModelFactory

from reminders.models import Deadline, Notification
from reminders.services import deadline_create_manual
from safety.ctcae import read_facts_file
from safety.models import AdverseEvent, CtcaeTerm
from safety.services import adverse_event_create, ctcae_load
from sites.models import EssentialDocument, Site, SiteConsentVersion, Subject
from sites.services import (
    document_create,
    document_update,
    site_consent_version_add,
    site_create,
    subject_create,
)
from staffing.models import Assignment, Organisation, Role, TrainingRecord, User
from staffing.services import assignment_start, training_record_create
from tests.conftest import PASSWORD, activate_site
from trials.models import ConsentVersion, Milestone, MilestoneKind, Trial
from trials.services import consent_version_create, milestone_create, trial_create

# The world fixture's personas were assigned 30 days ago: long enough to be "the trial's CRM"
# (the longest-serving one) and to be live on any day a test travels back a few weeks.
ASSIGNED_DAYS_AGO = 30


# ---------------------------------------------------------------------- organisations, people

class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.CRO


class CroFactory(OrganisationFactory):
    """The one CRO (get-or-create by name): every CRO user of a test works for it."""

    name = "Test CRO"
    kind = Organisation.Kind.CRO


class SponsorFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"Sponsor {n}")
    kind = Organisation.Kind.SPONSOR


class UserFactory(DjangoModelFactory):
    """A CRO member who can log in with tests.conftest.PASSWORD (hashed by the fast hasher the
    conftest installs); first name from the username as the world's make_user does."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user_{n}")
    password = factory.django.Password(PASSWORD)
    organisation = factory.SubFactory(CroFactory)
    first_name = factory.LazyAttribute(lambda user: user.username.split("_")[0].title())
    last_name = "Tester"


class SponsorUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"sponsor_user_{n}")
    organisation = factory.SubFactory(SponsorFactory)


class AdminFactory(UserFactory):
    """The administrator (get-or-create by username): a superuser in no organisation."""

    class Meta:
        django_get_or_create = ("username",)

    username = "admin_user"
    organisation = None
    is_staff = True
    is_superuser = True


def assigned(user: User, trial: Trial, role: str, *, site: Site | None = None,
             by: User | None = None, since: date | None = None, **extra) -> Assignment:
    """Put `user` on `trial` in `role` through assignment_start (which grants the permissions),
    from ASSIGNED_DAYS_AGO days ago unless `since` says otherwise."""
    since = since or timezone.localdate() - timedelta(days=ASSIGNED_DAYS_AGO)
    return assignment_start(user=user, trial=trial, role=role, site=site,
                            by=by or AdminFactory(), start_date=since, **extra)


def crm_of(trial: Trial, **user_fields) -> User:
    """A new CRO user assigned as the trial's CRM."""
    user = UserFactory(**{"username": _name("crm"), **user_fields})
    assigned(user, trial, Role.CRM)
    return user


def cra_of(site: Site, **user_fields) -> User:
    """A new CRO user assigned as the CRA of this one site of its trial."""
    user = UserFactory(**{"username": _name("cra"), **user_fields})
    assigned(user, site.trial, Role.CRA, site=site)
    return user


def monitor_of(trial: Trial, **user_fields) -> User:
    """A new CRO user assigned as the trial's medical monitor."""
    user = UserFactory(**{"username": _name("monitor"), **user_fields})
    assigned(user, trial, Role.MEDICAL_MONITOR)
    return user


def sponsor_viewer_of(trial: Trial, **user_fields) -> User:
    """A new member of the trial's sponsor assigned as its sponsor viewer."""
    user = UserFactory(**{"username": _name("sponsor_viewer"), "organisation": trial.sponsor,
                          **user_fields})
    assigned(user, trial, Role.SPONSOR_VIEWER)
    return user


def _name(role: str) -> factory.Sequence:
    """A username like crm_7 (first name "Crm"), numbered with UserFactory's own sequence."""
    return factory.Sequence(lambda n: f"{role}_{n}")


class TrainingRecordFactory(DjangoModelFactory):
    """A completed training, recorded by training_record_create (GCP opens its expiry
    deadline)."""

    class Meta:
        model = TrainingRecord
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    user = factory.SubFactory(UserFactory)
    kind = TrainingRecord.Kind.GCP
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return training_record_create(by=by, **fields)


# --------------------------------------------------------------------------------- trials

class TrialFactory(DjangoModelFactory):
    """A trial in planning, created by trial_create (author: the administrator)."""

    class Meta:
        model = Trial
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    protocol_number = factory.Sequence(lambda n: f"T-{n:04d}")
    title = factory.LazyAttribute(lambda trial: f"Trial {trial.protocol_number}")
    sponsor = factory.SubFactory(SponsorFactory)
    phase = "II"
    target_enrollment = 100

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return trial_create(by=by, **fields)


class MilestoneFactory(DjangoModelFactory):
    """A planned milestone (kind "other" unless given), by milestone_create: a deadline of the
    trial's CRM while it is not reached."""

    class Meta:
        model = Milestone
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    trial = factory.SubFactory(TrialFactory)
    kind = MilestoneKind.OTHER
    name = factory.LazyAttributeSequence(
        lambda milestone, n: f"Milestone {n}" if milestone.kind == MilestoneKind.OTHER else "")
    planned_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return milestone_create(by=by, **fields)


class ConsentVersionFactory(DjangoModelFactory):
    """An ICF version of a trial, by consent_version_create."""

    class Meta:
        model = ConsentVersion
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    trial = factory.SubFactory(TrialFactory)
    version = factory.Sequence(lambda n: f"1.{n}")

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return consent_version_create(by=by, **fields)


# ---------------------------------------------------------------------------------- sites

class SiteFactory(DjangoModelFactory):
    """A site, identified, by site_create. `activated=True` files its required documents and
    activates it through the checklist gate (tests.conftest.activate_site)."""

    class Meta:
        model = Site
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    trial = factory.SubFactory(TrialFactory)
    number = factory.Sequence(lambda n: f"8{n:03d}")  # apart from the 3-digit numbers tests write
    institution = factory.Sequence(lambda n: f"Institution {n}")
    country = "DE"
    target_enrollment = 10

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return site_create(by=by, **fields)

    @factory.post_generation
    def activated(site, create, extracted, **kwargs):
        if create and extracted:
            activate_site(site, by=AdminFactory(), **kwargs)
            site.refresh_from_db()


class SiteConsentVersionFactory(DjangoModelFactory):
    """An ICF version approved and effective at a site, by site_consent_version_add."""

    class Meta:
        model = SiteConsentVersion
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    site = factory.SubFactory(SiteFactory)
    consent_version = factory.SubFactory(ConsentVersionFactory,
                                         trial=factory.SelfAttribute("..site.trial"))
    ethics_approved_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=60))
    effective_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=50))

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return site_consent_version_add(by=by, **fields)


class SubjectFactory(DjangoModelFactory):
    """A subject registered at a site by subject_create, in screening; `enrolled=True` registers
    them as enrolled, the shortcut the world fixture takes."""

    class Meta:
        model = Subject
        skip_postgeneration_save = True

    class Params:
        enrolled = factory.Trait(
            status="enrolled",
            enrolled_on=factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30)),
        )

    by = factory.SubFactory(AdminFactory)
    site = factory.SubFactory(SiteFactory)
    number = factory.LazyAttributeSequence(lambda subject, n: f"{subject.site.number}-{n:04d}")

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return subject_create(by=by, **fields)


class EssentialDocumentFactory(DjangoModelFactory):
    """A document filed (received) at a site by document_create; `approved_by=<user>` has that
    second person approve it through document_update (the four-eyes review)."""

    class Meta:
        model = EssentialDocument
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    site = factory.SubFactory(SiteFactory)
    kind = "delegation_log"
    version = "1"
    status = "received"

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return document_create(by=by, **fields)

    @factory.post_generation
    def approved_by(document, create, extracted, **kwargs):
        if create and extracted:
            document_update(document=document, by=extracted, reason="Reviewed",
                            status="approved")
            document.refresh_from_db()


# --------------------------------------------------------------------------------- safety

def ctcae_term(name: str = "Febrile neutropenia") -> CtcaeTerm:
    """A CTCAE v5 term (the dictionary reloaded if a transactional test's flush emptied it)."""
    if not CtcaeTerm.objects.exists():
        ctcae_load(rows=read_facts_file(settings.CTCAE_FACTS_FILE))
    return CtcaeTerm.objects.get(term=name)


class AdverseEventFactory(DjangoModelFactory):
    """The world's serious adverse event (febrile neutropenia, grade 3, hospitalisation),
    recorded by adverse_event_create, pending medical review."""

    class Meta:
        model = AdverseEvent
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    subject = factory.SubFactory(SubjectFactory, enrolled=True)
    verbatim_term = "neutropenic fever"
    term = factory.LazyFunction(ctcae_term)
    onset_date = date(2026, 5, 31)
    severity_grade = 3
    seriousness_criteria = factory.LazyFunction(lambda: ["hospitalization"])
    investigator_causality = "related"
    site_awareness_at = datetime(2026, 6, 1, 9, tzinfo=UTC)
    sponsor_awareness_at = factory.SelfAttribute("site_awareness_at")

    @classmethod
    def _create(cls, model_class, *, by, **fields):
        return adverse_event_create(by=by, **fields)


# ------------------------------------------------------------------------------ reminders

class DeadlineFactory(DjangoModelFactory):
    """A hand-made task on a trial, by deadline_create_manual: `by` sets it (by default the
    administrator, for themself); `owner`, `site` and `escalation_user` as that service takes
    them, with its rules on who may set what for whom."""

    class Meta:
        model = Deadline
        skip_postgeneration_save = True

    by = factory.SubFactory(AdminFactory)
    trial = factory.SubFactory(TrialFactory)
    owner = factory.SelfAttribute("by")
    kind = "task"
    title = factory.Sequence(lambda n: f"Task {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))

    @classmethod
    def _create(cls, model_class, **fields):
        return deadline_create_manual(**fields)


class NotificationFactory(DjangoModelFactory):
    """An unread in-app notice (a plain row, as the world fixture makes it)."""

    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = "task"
    message = factory.Sequence(lambda n: f"Notice {n}")
    url = ""
