from django.urls import path

from dashboards import trial_page, views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/<slug:kind>/<int:pk>/", views.audit_trail, name="audit_trail"),
    path("audit/<slug:kind>/<int:pk>/csv/", views.audit_trail_csv, name="audit_trail_csv"),
]

# Composed pages, put under their app's namespace by croportal.urls.
trial_routes = [
    path("<int:pk>/", trial_page.trial_detail, name="detail"),
    path("<int:pk>/sites/", trial_page.trial_sites, name="sites"),
    path("<int:pk>/transition/", trial_page.trial_transition, name="transition"),
    path("<int:pk>/milestones/new/", trial_page.milestone_create, name="milestone_create"),
    path("<int:pk>/amendments/new/", trial_page.amendment_create, name="amendment_create"),
    path("<int:pk>/consent-versions/new/", trial_page.consent_version_create,
         name="consent_version_create"),
]
staff_routes = [
    path("workload/", views.workload, name="workload"),
]
