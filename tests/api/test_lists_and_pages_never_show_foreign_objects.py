"""Lists and pages never show objects outside the caller's scope (DESIGN §4): every API list of
a scoped kind, and the home, trial-list and trial pages, as every logged-in persona of trial A
and the outsider of trial B. The status of each route for each persona is the permission
matrix's (tests/api/test_permission_matrix.py); this checks what a 200 contains."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from safety.models import AdverseEvent
from sites.models import Site, Subject
from staffing.models import Assignment
from tests.api.permissions.matrix import PERSONAS
from trials.models import Trial

# ----------------------------------------------------------------- lists never leak foreign rows

LIST_ROUTES = {
    "api:trial-list": Trial,
    "api:site-list": Site,
    "api:subject-list": Subject,
    "api:assignment-list": Assignment,
    "api:adverse-event-list": AdverseEvent,
}


def scope_of(model, pk: int) -> tuple[int, int | None, int | None]:
    """(trial id, site id or None, assigned user id or None) of one row, read from the database
    rather than the serializer, so a wrong serializer field cannot hide a leak."""
    if model is Trial:
        return pk, None, None
    if model is Site:
        return Site.objects.get(pk=pk).trial_id, pk, None
    if model is Subject:
        subject = Subject.objects.get(pk=pk)
        return subject.site.trial_id, subject.site_id, None
    if model is AdverseEvent:
        site = AdverseEvent.objects.select_related("subject__site").get(pk=pk).subject.site
        return site.trial_id, site.pk, None
    assignment = Assignment.objects.get(pk=pk)
    return assignment.trial_id, assignment.site_id, assignment.user_id


def must_include(w, persona: str, model) -> set[int]:
    """Rows the persona must see, so that an empty list cannot pass as "no leak"."""
    own_trial = w.trial_b if persona == "outsider" else w.trial_a
    own = {
        Trial: {own_trial.pk},
        Site: {(w.site_b1 if persona == "outsider" else w.site_a1).pk},
        Subject: {(w.subject_b1 if persona == "outsider" else w.subject_a1).pk},
        # Sponsor viewers see safety as aggregate counts, never a case.
        AdverseEvent: set() if persona in ("sponsor", "outsider") else {w.ae_a1.pk},
        Assignment: {Assignment.objects.get(user=getattr(w, persona), trial=own_trial).pk},
    }
    if persona == "crm":
        own[Assignment] |= set(w.trial_a.assignments.values_list("pk", flat=True))
    return own[model]


@pytest.mark.parametrize(
    ("key", "persona"),
    [(key, persona) for key in LIST_ROUTES for persona in PERSONAS[1:6]],
    ids=[f"{key}-{persona}" for key in LIST_ROUTES for persona in PERSONAS[1:6]],
)
def test_lists_never_include_foreign_objects(world, key, persona):
    w, model = world, LIST_ROUTES[key]
    user = getattr(w, persona)
    client = APIClient()
    client.force_authenticate(user)
    own_trial, foreign_trial = (
        (w.trial_b, w.trial_a) if persona == "outsider" else (w.trial_a, w.trial_b)
    )

    response = client.get(reverse(key), {"page_size": 200})
    assert response.status_code == 200, f"{key} GET as {persona}: {response.status_code}"
    ids = {item["id"] for item in response.json()["results"]}
    leaks = []
    for pk in sorted(ids):
        trial_id, site_id, user_id = scope_of(model, pk)
        if trial_id != own_trial.pk:
            leaks.append(f"{model.__name__} {pk} of trial {trial_id}")
        elif persona == "cra" and site_id not in (None, w.site_a1.pk):
            leaks.append(f"{model.__name__} {pk} of site {site_id} (outside the CRA's site)")
        elif model is Assignment and persona != "crm" and user_id != user.pk:
            leaks.append(f"{model.__name__} {pk} of another user {user_id}")
    assert not leaks, f"{key} GET as {persona} lists objects outside their scope: {leaks}"
    if model is AdverseEvent and persona in ("sponsor", "outsider"):
        assert ids == set(), f"{key} GET as {persona} lists cases: {ids}"
    missing = must_include(w, persona, model) - ids
    assert not missing, f"{key} GET as {persona} omits its own {model.__name__} rows {missing}"

    if model is not Trial:  # trials have no ?trial= filter
        filtered = client.get(reverse(key), {"trial": foreign_trial.pk, "page_size": 200})
        assert filtered.status_code == 200, f"{key}?trial=<foreign> as {persona}"
        leaked = [item["id"] for item in filtered.json()["results"]]
        assert not leaked, f"{key}?trial={foreign_trial.pk} as {persona} returns {leaked}"


# ------------------------------------------------------------ pages never show foreign rows

def hidden_from(w, persona: str) -> dict[str, str]:
    """Marker strings of rows outside the persona's scope (protocol numbers, institutions)."""
    if persona == "outsider":
        return {"trial A": w.trial_a.protocol_number, "site_a1": w.site_a1.institution,
                "site_a2": w.site_a2.institution}
    hidden = {"trial B": w.trial_b.protocol_number, "site_b1": w.site_b1.institution}
    if persona == "cra":
        hidden["site_a2"] = w.site_a2.institution
    return hidden


@pytest.mark.parametrize("persona", PERSONAS[1:6])
@pytest.mark.parametrize("page_name", ["dashboards:home", "trials:list", "trials:detail"])
def test_pages_never_show_foreign_objects(world, page_name, persona):
    w = world
    own_trial = w.trial_b if persona == "outsider" else w.trial_a
    kwargs = {"pk": own_trial.pk} if page_name == "trials:detail" else {}
    client = Client()
    client.force_login(getattr(w, persona))
    response = client.get(reverse(page_name, kwargs=kwargs))
    assert response.status_code == 200, f"{page_name} GET as {persona}"
    html = response.content.decode()
    shown = [f"{label} ({marker!r})" for label, marker in hidden_from(w, persona).items()
             if marker in html]
    assert not shown, f"{page_name} GET as {persona} shows objects outside their scope: {shown}"
    if page_name != "dashboards:home":
        assert own_trial.protocol_number in html, f"{page_name} as {persona} omits its own trial"
    if page_name == "trials:detail":
        own_site = w.site_b1 if persona == "outsider" else w.site_a1
        assert own_site.institution in html, f"{page_name} as {persona} omits {own_site}"
