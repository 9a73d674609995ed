from django.urls import path

from sites import list_views, views

app_name = "sites"
# Under ``trials:`` (croportal.urls): a site is added from its trial's page.
trial_routes = [
    path("<int:pk>/sites/new/", views.site_create, name="site_create"),
]

urlpatterns = [
    path("<int:pk>/", views.site_detail, name="detail"),
    path("<int:pk>/edit/", views.site_edit, name="edit"),
    path("<int:pk>/subjects/", list_views.site_subjects, name="subjects"),
    path("<int:pk>/documents/", list_views.site_documents, name="documents"),
    path("<int:pk>/transition/", views.site_transition, name="transition"),
    path("<int:pk>/documents/new/", views.document_create, name="document_create"),
    path("documents/<int:pk>/edit/", views.document_edit, name="document_edit"),
    path("documents/<int:pk>/file/", views.document_file, name="document_file"),
    path("<int:pk>/consent-versions/new/", views.site_consent_version_add,
         name="consent_version_add"),
    path("<int:pk>/subjects/new/", views.subject_screen, name="subject_screen"),
    path("subjects/<int:pk>/transition/", views.subject_transition, name="subject_transition"),
    path("subjects/<int:pk>/consent/", views.subject_consent, name="subject_consent"),
]
