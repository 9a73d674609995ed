"""`{% table_body %}` renders exactly what django-tables2's own loop over `row.items` with
each cell's `column.attrs.td` renders — row attributes from the record (a deadline's
`overdue` class), render methods, links, forms in cells, no rows — in Python, once a table."""

import re
from datetime import timedelta
from itertools import count

import django_tables2 as tables
import pytest
from django.template import RequestContext, Template
from django.utils import timezone

from croportal.lists import PortalTable
from croportal.lists.spec import LinkedColumn
from reminders.services import deadline_create_manual
from tests.factories import (
    AdverseEventFactory,
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    cra_of,
    crm_of,
    monitor_of,
)
from trials.models import Trial

pytestmark = pytest.mark.django_db

# The loop lists/table.html ran before {% table_body %}, joined as the tag joins rows.
REFERENCE = Template(
    "{% load django_tables2 %}{% for row in table.paginated_rows %}"
    "{% if not forloop.first %}\n{% endif %}<tr {{ row.attrs.as_html }}>"
    "{% for column, cell in row.items %}<td {{ column.attrs.td.as_html }}>{{ cell }}</td>"
    "{% endfor %}</tr>{% endfor %}")
FAST = Template("{% table_body table %}")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def both(response, table=None) -> tuple[str, str]:
    """The page's table rendered by the reference loop and by the tag, in the same context
    (CSRF tokens are masked afresh on every render: compared without their values)."""
    table = table or response.context["table"]
    table.context = context = RequestContext(response.wsgi_request, {"table": table})
    try:
        table._counter = count()  # the page's own render counted its rows already
        reference = REFERENCE.render(context)
        table._counter = count()  # rows count from 0 again (odd/even classes)
        fast = FAST.render(context)
    finally:
        del table.context
    return TOKEN.sub("csrf", reference), TOKEN.sub("csrf", fast)


@pytest.fixture
def deadlines(db):
    trial = TrialFactory()
    crm, cra = crm_of(trial), cra_of(SiteFactory(trial=trial))
    now = timezone.now()
    for n in range(12):  # half of them overdue: rows with and without the class
        deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra if n % 2 else crm,
                               title=f"D-{n:02d} <b>&", due_at=now + timedelta(days=n - 6))
    return {"trial": trial, "crm": crm, "cra": cra}


def test_deadline_rows_with_record_classes_render_as_the_loop_did(client, deadlines):
    client.force_login(deadlines["crm"])
    reference, fast = both(client.get(f"/trials/{deadlines['trial'].pk}/deadlines/"))
    assert reference.count("<tr ") == 12
    assert 'class="overdue even"' in reference
    assert "D-00 &lt;b&gt;&amp;" in reference
    assert fast == reference


def test_my_deadlines_and_the_trials_list_render_as_the_loop_did(client, deadlines):
    client.force_login(deadlines["cra"])
    reference, fast = both(client.get("/deadlines/"))
    assert reference.count("<tr ") == 6
    assert fast == reference
    client.force_login(deadlines["crm"])
    reference, fast = both(client.get("/trials/"))
    assert "<a " in reference
    assert fast == reference


def test_no_rows_say_so_with_the_lists_hint(client, deadlines):
    client.force_login(deadlines["crm"])
    html = client.get(f"/trials/{deadlines['trial'].pk}/deadlines/",
                      {"q": "nothing matches this"}).content.decode()
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert '<td colspan="' in body
    assert 'class="empty"' in body


def test_a_linked_column_links_as_linkify_did_and_exports_the_plain_value(rf, deadlines):
    trial = deadlines["trial"]
    class Linkified(PortalTable):
        protocol_number = tables.Column("Protocol", linkify=("trials:detail", [tables.A("pk")]))

    class Linked(PortalTable):
        protocol_number = LinkedColumn("Protocol", url_name="trials:detail")

        def render_protocol_number(self, value):  # a table's own render keeps the link
            return f"[{value}]"

    class LinkedPlain(PortalTable):
        protocol_number = LinkedColumn("Protocol", url_name="trials:detail")

    request = rf.get("/")
    rows = Trial.objects.order_by("pk")
    expected = FAST.render(RequestContext(request, {"table": Linkified(rows)}))
    assert f'<a href="/trials/{trial.pk}/">' in expected
    assert FAST.render(RequestContext(request, {"table": LinkedPlain(rows)})) == expected
    own = FAST.render(RequestContext(request, {"table": Linked(rows)}))
    assert f'<a href="/trials/{trial.pk}/">[{trial.protocol_number}]' in own
    exported = list(LinkedPlain(rows).as_values())
    assert exported[1] == [trial.protocol_number]


def test_safety_tables_with_paths_along_foreign_keys_render_as_the_loop_did(client, deadlines):
    """The queue and a trial's cases: cells along foreign keys (`subject__site__number`),
    choice labels, a table's own render methods, links."""
    trial = deadlines["trial"]
    site = SiteFactory(trial=trial)
    for n in range(3):
        AdverseEventFactory(subject=SubjectFactory(site=site, enrolled=True),
                            seriousness_criteria=[] if n == 2 else ["hospitalization"])
    client.force_login(monitor_of(trial))
    queue = client.get("/safety/queue/")
    reference, fast = both(queue, queue.context["cases"]["table"])
    assert reference.count("<tr ") == 2
    assert site.number in reference
    assert fast == reference
    cases = client.get(f"/safety/trials/{trial.pk}/cases/")
    reference, fast = both(cases)
    assert reference.count("<tr ") == 3
    assert "/safety/adverse-events/" in reference
    assert fast == reference
