from io import StringIO

from django.core.management import call_command

from safety.models import AdverseEvent
from sites.models import Site, Subject
from staffing.models import Assignment, Organisation, User
from trials.models import Trial


def snapshot() -> dict:
    return {
        "trials": list(Trial.objects.order_by("protocol_number")
                       .values_list("protocol_number", "sponsor__name", "phase")),
        "sites": Site.objects.count(),
        "subjects": list(Subject.objects.order_by("number").values_list("number", "status")),
        "aes": list(AdverseEvent.objects.order_by("subject__number")
                    .values_list("subject__number", "term__meddra_code", "severity_grade")),
    }


def test_seed_demo_builds_every_role_and_is_idempotent(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", "--scale", "small", stdout=out)
    first = snapshot()
    assert Organisation.objects.filter(kind="SPONSOR").count() == 2
    assert set(Assignment.objects.values_list("role", flat=True)) == {
        "CRM", "CRA", "MEDICAL_MONITOR", "SPONSOR_VIEWER"}
    assert first["sites"] == 12
    assert first["aes"]
    assert "demo-crm-portal" in out.getvalue()
    assert User.objects.get(username="crm").check_password("demo-crm-portal")

    # Running it again changes nothing.
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "already present" in again.getvalue()
    assert snapshot() == first


def test_sponsor_viewers_are_only_on_their_own_sponsors_trials(db):
    call_command("seed_demo", stdout=StringIO())
    for assignment in Assignment.objects.filter(role="SPONSOR_VIEWER").select_related("user",
                                                                                        "trial"):
        assert assignment.user.organisation_id == assignment.trial.sponsor_id


def test_demo_passwords_are_hidden_unless_debug(db, settings):
    settings.DEBUG = False
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "demo-crm-portal" not in out.getvalue()
    assert "hidden" in out.getvalue()
