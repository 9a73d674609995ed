"""QuickSelect writes exactly the markup Django's select templates write: attributes (bare
when True, left out when False), optgroups, the selected option, escaping, a required field;
and every list filter's plain select is one."""

import pytest
from django import forms

from croportal.lists.widgets import QuickSelect, quick
from reminders.lists import MyDeadlineFilter
from tests.factories import UserFactory

CHOICES = [("", "Anyone"), (1, "Ada <Lovelace>"), ("x&y", 'Grace "Hopper"'),
           ("Group & co", [(3, "Three"), (4, "Four")])]


@pytest.mark.parametrize(("value", "attrs"), [
    (None, {}),
    ("1", {"id": "id_owner", "class": "wide"}),
    (4, {"disabled": True, "data-x": False, "aria-label": 'A "label"'}),
    ("x&y", {"required": True}),
])
def test_the_markup_is_djangos(value, attrs):
    assert QuickSelect(choices=CHOICES).render("owner", value, attrs) == forms.Select(
        choices=CHOICES).render("owner", value, attrs)


def test_a_copied_select_keeps_choices_and_required():
    field = forms.ChoiceField(choices=CHOICES[:3], required=True)
    copied = quick(field.widget)
    assert copied.render("who", "1") == field.widget.render("who", "1")
    assert copied.is_required


@pytest.mark.django_db
def test_list_filters_render_their_selects_with_it():
    form = MyDeadlineFilter(None, queryset=None, user=UserFactory()).form
    kinds = [type(field.widget) for field in form.fields.values()]
    assert QuickSelect in kinds
    assert forms.Select not in kinds
