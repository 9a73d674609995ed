"""A person's deadlines as an iCalendar (RFC 5545) feed."""

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from reminders.services import absolute_url


def calendar_of(deadlines, *, now: datetime, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//CRO Portal//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for deadline in deadlines:
        event = Event()
        event.add("uid", f"deadline-{deadline.pk}@croportal")
        event.add("dtstamp", now)
        _add_when(event, deadline)
        trial = f" [{deadline.trial.protocol_number}]" if deadline.trial else ""
        overdue = "OVERDUE: " if deadline.due_at <= now else ""
        event.add("summary", f"{overdue}{deadline.title}{trial}")
        event.add("description", f"{deadline.get_kind_display()} deadline in CRO Portal.")
        event.add("url", absolute_url(path=deadline.url))
        event.add("categories", [deadline.get_kind_display()])
        event.add("last-modified", deadline.updated_at)
        calendar.add_component(event)
    return calendar.to_ical()


def _add_when(event: Event, deadline) -> None:
    """A date-only deadline is an all-day event on its day (DTSTART;VALUE=DATE, DTEND the next
    day, RFC 5545 3.6.1), the same day on every subscriber's calendar; a deadline at a time of
    day (a SUSAR report, a medical review) is half an hour from its due time."""
    if deadline.due_on is not None:
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy all day
        return
    event.add("dtstart", deadline.due_at)
    event.add("dtend", deadline.due_at + timedelta(minutes=30))
