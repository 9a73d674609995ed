"""The medical monitor's queue and a trial's safety page."""

urlpatterns: list = []
