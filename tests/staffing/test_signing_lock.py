"""Signing attempts (21 CFR 11.300(d)): consecutive wrong passwords at any e-signature are
counted per account; at SIGNATURE_FAILURE_LIMIT signing is locked until an administrator
unlocks it, and the administrators are alerted at once."""

import pytest
from django.urls import reverse

from croportal.formats import format_datetime
from safety.models import AdverseEvent
from safety.services import adverse_event_review
from staffing.models import Signature, SigningAttempts, SigningLock
from staffing.services import SigningLocked, signature_failure_record
from tests.conftest import PASSWORD, api_as
from tests.factories import AdverseEventFactory, crm_of, monitor_of

REVIEW = {"sponsor_causality": "related", "expectedness": "unexpected"}


@pytest.fixture
def event(db):
    """A serious adverse event pending medical review."""
    return AdverseEventFactory()


@pytest.fixture
def monitor(event):
    return monitor_of(event.subject.trial)


@pytest.fixture
def crm(event):
    return crm_of(event.subject.trial)


def review(monitor, event, password):
    return api_as(monitor).post(
        f"/api/v1/adverse-events/{event.pk}/review/", {"password": password, **REVIEW},
        format="json")


def failures_of(user) -> int:
    attempts = SigningAttempts.objects.filter(user=user).first()
    return attempts.consecutive_failures if attempts else 0


def test_the_third_wrong_password_locks_signing_and_then_the_right_one_is_refused(event, monitor):
    for _ in range(2):
        response = review(monitor, event, "wrong")
        assert response.status_code == 403
        assert "password is not correct" in response.json()["detail"]
    response = review(monitor, event, "wrong")
    assert response.status_code == 403
    assert "Signing is locked" in response.json()["detail"]
    assert "administrator must unlock" in response.json()["detail"]

    response = review(monitor, event, PASSWORD)
    assert response.status_code == 403
    assert "Signing is locked" in response.json()["detail"]
    assert not Signature.objects.exists()
    assert AdverseEvent.objects.get(pk=event.pk).review_status == "pending"


def test_the_lock_records_who_when_and_which_record(monitor, event):
    for _ in range(3):
        review(monitor, event, "wrong")
    lock = SigningLock.objects.get()
    assert lock.user == monitor
    assert lock.failures == 3
    assert (lock.content_type.model, lock.object_id) == ("adverseevent", event.pk)
    assert lock.record_label == str(event)
    assert lock.locked_at is not None
    assert lock.unlocked_at is None
    assert lock.history.count() == 1


def test_the_failure_is_counted_even_though_the_refused_signing_saves_nothing(event, monitor):
    with pytest.raises(Exception, match="password is not correct"):
        adverse_event_review(event=event, by=monitor, password="wrong", **REVIEW)
    assert failures_of(monitor) == 1
    assert event.history.count() == 1  # the review's save was rolled back
    assert not Signature.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_failure_count_commits_while_the_signing_transaction_rolls_back():
    event = AdverseEventFactory()
    monitor = monitor_of(event.subject.trial)
    with pytest.raises(Exception, match="password is not correct"):
        adverse_event_review(event=event, by=monitor, password="wrong", **REVIEW)
    # Outside any test transaction: what is in the database was committed.
    assert failures_of(monitor) == 1
    event = AdverseEvent.objects.get(pk=event.pk)
    assert (event.review_status, event.sponsor_causality, event.history.count()) == (
        "pending", None, 1)


def test_a_successful_signature_resets_the_count(monitor, event):
    for _ in range(2):
        review(monitor, event, "wrong")
    assert review(monitor, event, PASSWORD).status_code == 200
    assert failures_of(monitor) == 0
    for _ in range(2):
        assert "password is not correct" in review(monitor, event, "wrong").json()["detail"]
    assert not SigningLock.objects.exists()


def test_the_limit_is_a_setting(monitor, event, settings):
    settings.SIGNATURE_FAILURE_LIMIT = 1
    assert "Signing is locked" in review(monitor, event, "wrong").json()["detail"]
    assert SigningLock.objects.filter(user=monitor, failures=1).exists()


def test_failures_counted_from_stale_copies_all_count_and_lock_once(monitor, event, settings):
    settings.SIGNATURE_FAILURE_LIMIT = 2
    assert signature_failure_record(user=monitor, record=event) is None
    assert signature_failure_record(user=monitor, record=event) is not None
    assert signature_failure_record(user=monitor, record=event) is None
    assert failures_of(monitor) == 3
    assert SigningLock.objects.filter(user=monitor).count() == 1


def test_every_active_superuser_is_alerted_at_once_by_notification_and_email(
        admin, crm, monitor, event, mailoutbox, django_capture_on_commit_callbacks):
    admin.email = "admin@example.org"
    admin.save(update_fields=["email"])
    crm.is_superuser = True
    crm.is_active = False
    crm.save(update_fields=["is_superuser", "is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            review(monitor, event, "wrong")
    lock = SigningLock.objects.get()
    notice = admin.notifications.get(kind="signing_locked")
    assert monitor.username in notice.message
    assert str(event) in notice.message
    assert format_datetime(lock.locked_at, zone="UTC") in notice.message
    assert notice.url == reverse("admin:staffing_signinglock_change", args=[lock.pk])
    assert not crm.notifications.filter(kind="signing_locked").exists()
    assert not monitor.notifications.filter(kind="signing_locked").exists()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["admin@example.org"]
    assert monitor.username in mail.subject
    assert str(event) in mail.body
    assert "UTC" in mail.body


def test_the_page_shows_the_lock_as_a_form_error(monitor, event, client, settings):
    settings.SIGNATURE_FAILURE_LIMIT = 1
    review(monitor, event, "wrong")
    client.force_login(monitor)
    response = client.post(reverse("safety:ae_review", args=[event.pk]),
                           {"password": PASSWORD, **REVIEW})
    assert response.status_code == 400
    assert response.content.decode().count("Signing is locked for your account") == 1
    assert not Signature.objects.exists()


@pytest.mark.parametrize(("changelist", "selected"), [
    ("admin:staffing_signinglock_changelist", "lock"),
    ("admin:staffing_user_changelist", "user"),
])
def test_an_administrator_unlocks_signing_in_the_admin(
        admin, monitor, event, client, settings, changelist, selected):
    settings.SIGNATURE_FAILURE_LIMIT = 1
    review(monitor, event, "wrong")
    lock = SigningLock.objects.get()
    client.force_login(admin)
    action = "unlock" if selected == "lock" else "unlock_signing"
    pk = lock.pk if selected == "lock" else monitor.pk
    response = client.post(reverse(changelist), {"action": action, "_selected_action": [pk]})
    assert response.status_code == 302
    lock.refresh_from_db()
    assert lock.unlocked_by == admin
    assert lock.unlocked_at is not None
    assert lock.unlock_reason
    assert lock.history.count() == 2  # locked, then unlocked: both on the audit trail
    assert failures_of(monitor) == 0
    assert review(monitor, event, PASSWORD).status_code == 200


def test_signing_locked_is_not_itself_counted_as_a_failure(event, monitor, settings):
    settings.SIGNATURE_FAILURE_LIMIT = 1
    review(monitor, event, "wrong")
    with pytest.raises(SigningLocked):
        adverse_event_review(event=event, by=monitor, password="wrong", **REVIEW)
    assert failures_of(monitor) == 1
    assert SigningLock.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_failures_both_count_and_lock_once_on_postgres(postgres, settings):
    import threading

    from django.db import connection as main_connection
    from django.db import connections

    settings.SIGNATURE_FAILURE_LIMIT = 2
    event = AdverseEventFactory()
    monitor = monitor_of(event.subject.trial)
    barrier, errors = threading.Barrier(2), []

    def fail_once() -> None:
        try:
            barrier.wait(timeout=10)
            signature_failure_record(user=monitor, record=event)
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fail_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert main_connection.vendor == "postgresql"
    assert errors == []
    assert failures_of(monitor) == 2
    assert SigningLock.objects.filter(user=monitor).count() == 1
