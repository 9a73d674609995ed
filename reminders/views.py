from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from access.checks import may_manage_staff
from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from croportal.lists import list_page
from reminders import services
from reminders.forms import DeadlineForm, PreferenceForm
from reminders.ical import calendar_of
from reminders.lists import MY_DEADLINES, NOTIFICATIONS, TRIAL_DEADLINES
from reminders.models import CalendarFeed
from reminders.selectors import (
    active_people,
    calendar_deadlines_of,
    deadlines_visible_to,
    notifications_of,
    people_for_deadlines_of,
    trial_people_ids,
    trials_seen_by,
    unread_count,
)


@login_required
def my_deadlines(request):
    """The caller's own deadlines and escalations: overdue first, open ones unless asked."""
    user = request.user
    return list_page(request, MY_DEADLINES, template="reminders/my_deadlines.html", context={
        "can_create": not user.is_sponsor_user})


@login_required
def trial_deadlines(request, pk: int):
    """Every deadline of one trial, for its CRM (and administrators)."""
    trial = get_object_or_404(trials_seen_by(user=request.user), pk=pk)
    if not may_manage_staff(user=request.user, trial=trial):
        raise PermissionDenied
    team = list(active_people().filter(
        pk__in=trial_people_ids(trial=trial)).order_by("first_name", "username"))
    # The reassign select's options written here: a template loop over a large trial's team
    # (a hundred and more) cost more than the rest of the form.
    team_options = format_html_join("", '<option value="{}">{}</option>',
                                    ((person.pk, person.full_name) for person in team))
    return list_page(request, TRIAL_DEADLINES, template="reminders/trial_deadlines.html",
                     context={"trial": trial, "team": team, "team_options": team_options},
                     url_kwargs={"pk": pk})


@login_required
def deadline_new(request):
    user = request.user
    if user.is_sponsor_user:
        raise PermissionDenied
    form = DeadlineForm(request.POST or None, user=user, trials=trials_seen_by(user=user),
                        people=people_for_deadlines_of(user=user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.deadline_create_manual(
                by=user, kind=data["kind"], trial=data["trial"], owner=data["owner"],
                due_at=data["due"], title=data["title"])
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Deadline set.")
            return redirect("reminders:my_deadlines")
    return render(request, "reminders/deadline_form.html", {"form": form})


@login_required
@require_POST
def deadline_done(request, pk: int):
    deadline = get_object_or_404(deadlines_visible_to(user=request.user), pk=pk)
    manages = deadline.trial_id is not None and may_manage_staff(
        user=request.user, trial=deadline.trial_id)
    if deadline.owner_id != request.user.pk and not manages:
        raise PermissionDenied
    try:
        services.deadline_complete(deadline=deadline, by=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Done: {deadline.title}")
    return redirect(_safe_next(request, "reminders:my_deadlines"))


@login_required
@require_POST
def deadline_reassign(request, pk: int):
    """The trial's CRM gives a deadline to someone else on the trial (trial deadlines page)."""
    deadline = get_object_or_404(deadlines_visible_to(user=request.user), pk=pk)
    if deadline.trial_id is None or not may_manage_staff(
            user=request.user, trial=deadline.trial_id):
        raise PermissionDenied
    chosen = request.POST.get("owner", "")
    owner = (active_people().filter(pk=int(chosen)).first()
             if chosen.isdigit() and len(chosen) < 19 else None)
    if owner is None:
        messages.error(request, "Choose a person.")
    else:
        try:
            services.deadline_reassign(deadline=deadline, owner=owner, by=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"\u201c{deadline.title}\u201d now belongs to "
                                      f"{owner.full_name}.")
    return redirect(_safe_next(request, reverse("reminders:trial_deadlines",
                                                args=[deadline.trial_id])))


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback if fallback.startswith("/") else reverse(fallback)


@login_required
def notification_list(request):
    return list_page(request, NOTIFICATIONS, template="reminders/notifications.html",
                     context={"unread": unread_count(user=request.user)})


@login_required
def bell(request):
    """The bell's unread count (an htmx partial, polled by every page)."""
    return render(request, "reminders/_bell.html", {"unread": unread_count(user=request.user)})


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(notifications_of(user=request.user), pk=pk)
    services.notification_mark_read(notification=notification)
    if request.POST.get("open") and notification.url.startswith("/"):
        return redirect(notification.url)
    return redirect(_safe_next(request, "reminders:notifications"))


@login_required
@require_POST
def notifications_read_all(request):
    services.notifications_mark_all_read(user=request.user)
    return redirect("reminders:notifications")


@login_required
def preferences(request):
    current = services.preference_of(user=request.user)
    initial = {"email_enabled": current.email_enabled, "digest_only": current.digest_only,
               "daily_digest": current.daily_digest, "muted_kinds": current.muted_kinds}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.preferences_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Preferences saved.")
        return redirect("reminders:preferences")
    return render(request, "reminders/preferences.html", {
        "form": form, "digest_hour": settings.DIGEST_HOUR})


@login_required
def calendar(request):
    """The personal feed: a new secret URL (shown once), or none."""
    secret = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(user=request.user)
            messages.success(request, "Calendar feed turned off; the old address no longer works.")
            return redirect("reminders:calendar")
        secret = services.calendar_feed_regenerate(user=request.user)
    feed = CalendarFeed.objects.filter(user=request.user).first()
    url = (request.build_absolute_uri(f"/calendar/{secret}.ics") if secret else None)
    return render(request, "reminders/calendar.html", {"feed": feed, "feed_url": url})


def calendar_feed(request, secret: str):
    """The iCalendar feed: the secret is the credential (no login); 404 for any other."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if len(secret) > 100:
        raise Http404
    feed = CalendarFeed.objects.select_related("user").filter(
        secret_hash=services.calendar_secret_hash(secret)).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    user = feed.user
    deadlines = calendar_deadlines_of(user=user)[:1000]
    body = calendar_of(deadlines, now=timezone.now(), name=f"CRO Portal: {user.full_name}")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="cro-portal.ics"'
    return response
