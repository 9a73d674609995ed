from django.urls import path

from sites import views as site_views
from trials import views

app_name = "trials"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("new/", views.trial_create, name="create"),
    path("<int:pk>/", views.trial_detail, name="detail"),
    path("<int:pk>/edit/", views.trial_edit, name="edit"),
    path("<int:pk>/transition/", views.trial_transition, name="transition"),
    path("<int:pk>/milestones/new/", views.milestone_create, name="milestone_create"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    path("<int:pk>/amendments/new/", views.amendment_create, name="amendment_create"),
    path("<int:pk>/consent-versions/new/", views.consent_version_create,
         name="consent_version_create"),
    path("<int:pk>/sites/new/", site_views.site_create, name="site_create"),
]
