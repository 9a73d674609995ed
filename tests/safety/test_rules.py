"""safety/rules.py: the DOMAIN A1-A3 rules as pure functions (no database)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from safety import rules
from safety.rules import (
    EU_CTR,
    EU_CTR_7_DAY,
    EU_CTR_8_DAY_FOLLOW_UP,
    EU_CTR_15_DAY,
    EU_CTR_FOLLOW_UP,
    EU_EUDRAVIGILANCE,
    FDA,
    FDA_IND,
    FDA_IND_7_DAY,
    FDA_IND_15_DAY,
    FDA_IND_FOLLOW_UP,
    FOLLOW_UP_INFO,
    INVESTIGATORS,
    REPORT,
    REVIEW,
    Facts,
    Information,
)

BOTH = (FDA_IND, EU_CTR)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def facts(*criteria, inv="related", spon="related", exp="unexpected") -> Facts:
    return Facts(frozenset(criteria), inv, spon, exp)


def info(at: datetime, the_facts: Facts, kind: str = REPORT) -> Information:
    return Information(received_at=at, kind=kind, facts=the_facts)


def owed(history, frameworks=BOTH, submitted=None, zone="UTC"):
    """(rule, recipient, clock start, due date) rows, in the order obligations_owed gives."""
    return [(o.rule, o.recipient, o.clock_start_at,
             rules.due_on(o.clock_start_at, days=o.days, zone=zone))
            for o in rules.obligations_owed(history, frameworks=frameworks,
                                            first_submitted=submitted or {})]


SUSAR = facts("hospitalization")
FATAL = facts("death")


# ------------------------------------------------------------------ A1 classification


def test_frameworks_follow_the_trials_numbers():
    assert rules.frameworks(ind_number="123456", eu_ct_number="") == (FDA_IND,)
    assert rules.frameworks(ind_number="  ", eu_ct_number="2024-512345-12-00") == (EU_CTR,)
    assert rules.frameworks(ind_number="123456", eu_ct_number="2024-512345-12-00") == BOTH
    assert rules.frameworks(ind_number="", eu_ct_number="") == ()


def test_an_unknown_framework_raises():
    with pytest.raises(ValueError, match="Unknown framework"):
        rules.related(SUSAR, framework="PMDA")
    with pytest.raises(ValueError, match="Unknown framework"):
        rules.is_susar(facts(), framework="PMDA")  # not serious: still refused
    with pytest.raises(ValueError, match="Unknown framework"):
        rules.obligations_owed([info(T0, SUSAR)], frameworks=("PMDA",), first_submitted={})
    with pytest.raises(ValueError, match="Unknown framework"):
        rules.cancellation_reason(SUSAR, framework="PMDA")


def test_seriousness_is_any_criterion_and_fatal_means_death_or_life_threatening():
    assert not rules.is_serious(facts())
    assert rules.is_serious(facts("important_medical_event"))
    assert not rules.fatal_or_life_threatening(facts("hospitalization", "disability"))
    assert rules.fatal_or_life_threatening(facts("death"))
    assert rules.fatal_or_life_threatening(facts("life_threatening"))
    assert not rules.unexpected(facts("death", exp=None))


def test_fda_takes_the_sponsors_causality_where_given_eu_takes_either():
    split = facts("hospitalization", inv="related", spon="not_related")
    assert rules.is_susar(split, framework=EU_CTR)
    assert not rules.is_susar(split, framework=FDA_IND)
    upgraded = facts("hospitalization", inv="not_related", spon="related")
    assert rules.is_susar(upgraded, framework=FDA_IND)
    assert rules.is_susar(upgraded, framework=EU_CTR)
    investigator_only = facts("hospitalization", inv="related", spon=None)
    assert rules.related(investigator_only, framework=FDA_IND)
    unassessed = facts("hospitalization", inv=None, spon=None)
    assert not rules.related(unassessed, framework=FDA_IND)
    assert not rules.related(unassessed, framework=EU_CTR)


def test_facts_treat_blank_as_not_assessed_and_refuse_unknown_values():
    assert facts(inv="", spon="", exp="") == facts(inv=None, spon=None, exp=None)
    with pytest.raises(ValueError, match="expectedness"):
        facts(exp="maybe")
    with pytest.raises(ValueError, match="criteria"):
        facts("grade_4")
    with pytest.raises(ValueError, match="aware"):
        info(datetime(2026, 3, 1, 9, 0), SUSAR)


# ------------------------------------------------------------------ A2 clock starts


def test_became_at_starts_a_new_run_after_a_gap():
    history = [info(day(0), SUSAR), info(day(1), facts("hospitalization", exp="expected"), REVIEW),
               info(day(2), SUSAR, FOLLOW_UP_INFO), info(day(3), SUSAR, FOLLOW_UP_INFO)]
    susar = lambda f: rules.is_susar(f, framework=FDA_IND)  # noqa: E731
    assert rules.became_at(history, susar) == day(2)
    assert rules.became_at(history[:1], susar) == day(0)
    assert rules.became_at(history[:2], susar) is None


def test_susar_determined_at_is_the_first_ever():
    history = [info(day(0), facts("hospitalization", exp=None)),
               info(day(1), SUSAR, REVIEW),
               info(day(2), facts("hospitalization", exp="expected"), REVIEW),
               info(day(3), SUSAR, REVIEW)]
    assert rules.susar_determined_at(history, frameworks=BOTH) == day(1)
    assert rules.susar_determined_at(history[:1], frameworks=BOTH) is None
    eu_first = [info(day(0), facts("hospitalization", spon="not_related")),
                info(day(2), SUSAR, REVIEW)]
    assert rules.susar_determined_at(eu_first, frameworks=BOTH) == day(0)
    assert rules.susar_determined_at(eu_first, frameworks=(FDA_IND,)) == day(2)


def test_day_zero_due_date_and_on_time_in_a_non_utc_zone():
    received = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert rules.day_zero(received, zone="Asia/Tokyo") == date(2026, 3, 2)
    assert rules.day_zero(received, zone="UTC") == date(2026, 3, 1)
    due = rules.due_on(received, days=7, zone="Asia/Tokyo")
    assert due == date(2026, 3, 9)
    assert rules.on_time(datetime(2026, 3, 9, 14, 0, tzinfo=UTC), due_on=due, zone="Asia/Tokyo")
    assert not rules.on_time(datetime(2026, 3, 9, 15, 30, tzinfo=UTC), due_on=due,
                             zone="Asia/Tokyo")


def test_an_unknown_or_empty_zone_counts_in_utc():
    received = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    for zone in ("", "Mars/Olympus_Mons", "America", "../etc/passwd"):
        assert rules.day_zero(received, zone=zone) == date(2026, 3, 1)
    with pytest.raises(ValueError, match="aware"):
        rules.day_zero(datetime(2026, 3, 1), zone="UTC")


def test_site_report_late_after_more_than_24_hours_for_serious_events_only():
    site = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    late = site + timedelta(hours=24, minutes=1)
    assert rules.site_report_late(serious=True, site_awareness_at=site, sponsor_awareness_at=late)
    assert not rules.site_report_late(serious=True, site_awareness_at=site,
                                      sponsor_awareness_at=site + timedelta(hours=24))
    assert not rules.site_report_late(serious=False, site_awareness_at=site,
                                      sponsor_awareness_at=site + timedelta(days=30))


def test_medical_review_due_is_day_zero_plus_the_setting():
    start = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert rules.medical_review_due_on(clock_start_at=start, days=1, zone="UTC") == date(2026, 3, 2)
    assert rules.medical_review_due_on(clock_start_at=start, days=1,
                                       zone="Asia/Tokyo") == date(2026, 3, 3)


# ------------------------------------------------------------------ A3 obligations


def test_fatal_fda_susar_owes_the_7_day_and_the_15_day_on_the_same_clock():
    assert owed([info(T0, FATAL)], frameworks=(FDA_IND,)) == [
        (FDA_IND_15_DAY, FDA, T0, date(2026, 3, 16)),
        (FDA_IND_15_DAY, INVESTIGATORS, T0, date(2026, 3, 16)),
        (FDA_IND_7_DAY, FDA, T0, date(2026, 3, 8)),
    ]


def test_life_threatening_eu_susar_owes_7_day_and_8_day_follow_up_but_no_15_day():
    result = rules.obligations_owed([info(T0, facts("life_threatening"))], frameworks=(EU_CTR,),
                                    first_submitted={})
    assert [(o.rule, o.recipient, o.report_type, o.clock_start_at, o.days) for o in result] == [
        (EU_CTR_7_DAY, EU_EUDRAVIGILANCE, "initial", T0, 7),
        (EU_CTR_8_DAY_FOLLOW_UP, EU_EUDRAVIGILANCE, "follow_up", T0, 15),
    ]
    assert all(o.framework == EU_CTR for o in result)


def test_non_fatal_susars_owe_the_15_day_only():
    assert owed([info(T0, SUSAR)], frameworks=(FDA_IND,)) == [
        (FDA_IND_15_DAY, FDA, T0, date(2026, 3, 16)),
        (FDA_IND_15_DAY, INVESTIGATORS, T0, date(2026, 3, 16)),
    ]
    assert owed([info(T0, SUSAR)], frameworks=(EU_CTR,)) == [
        (EU_CTR_15_DAY, EU_EUDRAVIGILANCE, T0, date(2026, 3, 16)),
    ]


def test_a_trial_under_both_frameworks_owes_both():
    assert owed([info(T0, SUSAR)]) == [
        (EU_CTR_15_DAY, EU_EUDRAVIGILANCE, T0, date(2026, 3, 16)),
        (FDA_IND_15_DAY, FDA, T0, date(2026, 3, 16)),
        (FDA_IND_15_DAY, INVESTIGATORS, T0, date(2026, 3, 16)),
    ]
    assert owed([info(T0, SUSAR)], frameworks=(EU_CTR, FDA_IND)) == owed([info(T0, SUSAR)])


def test_the_sponsor_cannot_downgrade_the_investigator_under_eu_but_decides_under_fda():
    split = facts("hospitalization", inv="related", spon="not_related")
    assert owed([info(T0, split)]) == [(EU_CTR_15_DAY, EU_EUDRAVIGILANCE, T0, date(2026, 3, 16))]
    assert rules.cancellation_reason(split, framework=FDA_IND) == (
        "No longer a SUSAR under FDA IND: not related (sponsor's assessment)")
    assert rules.cancellation_reason(split, framework=EU_CTR) is None


def test_the_fda_15_day_clock_starts_at_the_fda_determination_even_if_eu_came_first():
    history = [info(day(0), facts("hospitalization", spon="not_related")),
               info(day(2), SUSAR, REVIEW)]
    assert owed(history) == [
        (EU_CTR_15_DAY, EU_EUDRAVIGILANCE, day(0), date(2026, 3, 16)),
        (FDA_IND_15_DAY, FDA, day(2), date(2026, 3, 18)),
        (FDA_IND_15_DAY, INVESTIGATORS, day(2), date(2026, 3, 18)),
    ]


def test_serious_but_expected_owes_nothing():
    expected = facts("death", exp="expected")
    assert owed([info(T0, expected)]) == []
    assert rules.cancellation_reason(expected, framework=EU_CTR) == (
        "No longer a SUSAR under EU CTR: assessed as expected")


def test_serious_but_unrelated_owes_nothing():
    unrelated = facts("hospitalization", inv="not_related", spon="not_related")
    assert owed([info(T0, unrelated)]) == []
    assert rules.cancellation_reason(unrelated, framework=EU_CTR) == (
        "No longer a SUSAR under EU CTR: not related by either assessment")
    assert rules.cancellation_reason(facts("death", inv=None, spon=None), framework=FDA_IND) == (
        "No longer a SUSAR under FDA IND: causality not assessed")


def test_non_serious_owes_nothing():
    assert owed([info(T0, facts())]) == []
    assert rules.cancellation_reason(facts(), framework=FDA_IND) == (
        "No longer a SUSAR under FDA IND: not serious")


def test_an_upgrade_to_fatal_adds_the_7_day_rules_and_keeps_the_15_day_clock():
    history = [info(day(0), SUSAR),
               info(day(2), facts("hospitalization", "death"), FOLLOW_UP_INFO)]
    assert owed(history) == [
        (EU_CTR_15_DAY, EU_EUDRAVIGILANCE, day(0), date(2026, 3, 16)),
        (FDA_IND_15_DAY, FDA, day(0), date(2026, 3, 16)),
        (FDA_IND_15_DAY, INVESTIGATORS, day(0), date(2026, 3, 16)),
        (EU_CTR_7_DAY, EU_EUDRAVIGILANCE, day(2), date(2026, 3, 10)),
        (EU_CTR_8_DAY_FOLLOW_UP, EU_EUDRAVIGILANCE, day(2), date(2026, 3, 18)),
        (FDA_IND_7_DAY, FDA, day(2), date(2026, 3, 10)),
    ]


def test_a_downgrade_to_expected_owes_nothing_and_gives_a_reason():
    downgraded = facts("hospitalization", exp="expected")
    history = [info(day(0), SUSAR), info(day(1), downgraded, REVIEW)]
    assert owed(history) == []
    assert rules.cancellation_reason(downgraded, framework=FDA_IND) == (
        "No longer a SUSAR under FDA IND: assessed as expected")
    assert rules.cancellation_reason(SUSAR, framework=FDA_IND) is None


def test_new_information_after_submission_owes_follow_ups():
    submitted = {FDA_IND: day(5), EU_CTR: day(5)}
    history = [info(day(0), SUSAR),
               info(day(3), SUSAR, FOLLOW_UP_INFO),  # before submission: part of the initial
               info(day(6), SUSAR, FOLLOW_UP_INFO),
               info(day(7), SUSAR, REVIEW)]  # a review is not new information to report
    initial = owed(history[:1])
    assert owed(history, submitted=submitted) == [*initial,
        (EU_CTR_FOLLOW_UP, EU_EUDRAVIGILANCE, day(6), date(2026, 3, 22)),
        (FDA_IND_FOLLOW_UP, FDA, day(6), date(2026, 3, 22)),
        (FDA_IND_FOLLOW_UP, INVESTIGATORS, day(6), date(2026, 3, 22)),
    ]
    kinds = {o.report_type for o in rules.obligations_owed(
        history, frameworks=BOTH, first_submitted=submitted) if o.clock_start_at == day(6)}
    assert kinds == {"follow_up"}


def test_follow_up_that_newly_makes_the_case_fatal_after_submission_owes_7_days():
    submitted = {FDA_IND: day(5), EU_CTR: day(5)}
    history = [info(day(0), SUSAR),
               info(day(6), facts("hospitalization", "death"), FOLLOW_UP_INFO),
               info(day(8), facts("hospitalization", "death"), FOLLOW_UP_INFO)]
    rows = owed(history, submitted=submitted)
    assert rows == [*owed(history[:1]),
        (EU_CTR_FOLLOW_UP, EU_EUDRAVIGILANCE, day(6), date(2026, 3, 14)),
        (FDA_IND_FOLLOW_UP, FDA, day(6), date(2026, 3, 14)),
        (FDA_IND_FOLLOW_UP, INVESTIGATORS, day(6), date(2026, 3, 14)),
        (EU_CTR_FOLLOW_UP, EU_EUDRAVIGILANCE, day(8), date(2026, 3, 24)),
        (FDA_IND_FOLLOW_UP, FDA, day(8), date(2026, 3, 24)),
        (FDA_IND_FOLLOW_UP, INVESTIGATORS, day(8), date(2026, 3, 24)),
    ]
    assert not {FDA_IND_7_DAY, EU_CTR_7_DAY, EU_CTR_8_DAY_FOLLOW_UP} & {r[0] for r in rows}


def test_no_initial_rules_are_owed_again_after_submission():
    submitted = {FDA_IND: day(1), EU_CTR: day(1)}
    history = [info(day(0), SUSAR),
               info(day(2), facts("hospitalization", exp="expected"), REVIEW),
               info(day(3), SUSAR, FOLLOW_UP_INFO)]
    assert owed(history, submitted=submitted) == [
        (EU_CTR_FOLLOW_UP, EU_EUDRAVIGILANCE, day(3), date(2026, 3, 19)),
        (FDA_IND_FOLLOW_UP, FDA, day(3), date(2026, 3, 19)),
        (FDA_IND_FOLLOW_UP, INVESTIGATORS, day(3), date(2026, 3, 19)),
    ]
    # Submitted under one framework only: the other still owes its initial report.
    assert owed(history, frameworks=(EU_CTR,), submitted={FDA_IND: day(1)}) == [
        (EU_CTR_15_DAY, EU_EUDRAVIGILANCE, day(3), date(2026, 3, 19)),
    ]


def test_obligations_are_deterministic_and_due_dates_use_the_trial_zone():
    history = [info(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), FATAL)]
    first = rules.obligations_owed(history, frameworks=BOTH, first_submitted={})
    assert first == rules.obligations_owed(list(history), frameworks=BOTH, first_submitted={})
    assert owed(history, frameworks=(FDA_IND,), zone="Asia/Tokyo")[-1][3] == date(2026, 3, 9)
    with pytest.raises(ValueError, match="history"):
        rules.obligations_owed([], frameworks=BOTH, first_submitted={})
