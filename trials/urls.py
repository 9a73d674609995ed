"""The trials namespace's own routes. The trial page and the forms it shows (which compose
sites and enrollment) come from dashboards, and "add a site" from sites; croportal.urls puts
them all under ``trials:``."""

from django.urls import path

from trials import views

app_name = "trials"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("new/", views.trial_create, name="create"),
    path("<int:pk>/edit/", views.trial_edit, name="edit"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
]
