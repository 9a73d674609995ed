"""Safety pages: a case (safety.views.cases) and the medical monitor's queue and a trial's
safety overview (safety.views.queue)."""
