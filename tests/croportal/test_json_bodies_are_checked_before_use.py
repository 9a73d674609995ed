"""The API's JSON parser refuses, as a 400 that changes nothing, bodies that used to be server
errors: nesting deep enough to exhaust the recursion limit, NUL characters and lone surrogates
(PostgreSQL cannot store them), numbers beyond Python's 4300-digit limit, NaN and Infinity."""

import pytest
from rest_framework.test import APIClient

from croportal.parsers import MAX_DEPTH, check_json_document, json_loads_checked
from tests.conftest import api_as
from tests.factories import TrialFactory
from trials.models import Trial


@pytest.fixture
def trial(db):
    return TrialFactory(protocol_number="A-001", title="Trial A")


def nested(depth: int) -> str:
    return '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)


def test_a_body_at_the_depth_limit_is_read_and_one_level_deeper_is_refused():
    assert json_loads_checked(nested(MAX_DEPTH)) is not None
    with pytest.raises(ValueError, match="nested deeper than 32 levels"):
        json_loads_checked(nested(MAX_DEPTH + 1))


def test_nesting_beyond_the_recursion_limit_is_refused_not_raised():
    with pytest.raises(ValueError, match="nested deeper"):
        json_loads_checked("[" * 200_000 + "]" * 200_000)


def test_the_document_walk_needs_no_recursion():
    document: list = []
    for _ in range(100_000):  # far beyond the recursion limit
        document = [document]
    assert "nested deeper" in check_json_document(document)


@pytest.mark.parametrize(("text", "message"), [
    ('{"title": "a\\u0000b"}', "NUL characters"),
    ('{"a\\u0000": 1}', "NUL characters"),
    ('["a\\ud800b"]', "unpaired surrogates"),
    ('{"\\udfff": 1}', "unpaired surrogates"),
    ("9" * 5000, "more than 4300 digits"),
    ('{"n": NaN}', "NaN is not a JSON number"),
    ("[-Infinity]", "-Infinity is not a JSON number"),
    ('{"allocation": 1e400}', "The number 1e400 is too large"),
])
def test_unstorable_text_and_numbers_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        json_loads_checked(text)


def test_a_surrogate_pair_is_a_character_and_is_kept():
    assert json_loads_checked('"\\ud83d\\ude00"') == "\U0001f600"


@pytest.mark.parametrize(("body", "message"), [
    ('{"title": ' * 5000 + '"x"' + "}" * 5000, "nested deeper than 32 levels"),
    ('{"title": "Trial\\u0000A", "change_reason": "typo"}', "NUL characters"),
    ('{"title": "Trial \\ud800", "change_reason": "typo"}', "unpaired surrogates"),
    ('{"target_enrollment": ' + "9" * 5000 + ', "change_reason": "typo"}', "4300 digits"),
])
def test_a_hostile_body_is_a_400_and_changes_nothing(crm, trial, body, message):
    history = Trial.history.count()
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/", data=body,
                                 content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert Trial.history.count() == history
    trial.refresh_from_db()
    assert trial.title == "Trial A"


def test_the_token_endpoint_refuses_deep_nesting_with_a_400(db):
    response = APIClient().post("/api/v1/auth/token/", data="[" * 100_000 + "]" * 100_000,
                                content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]
