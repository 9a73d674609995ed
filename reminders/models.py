# The reminders engine arrives with its own issue; the app exists so the layout is stable.
