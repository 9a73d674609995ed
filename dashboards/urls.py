from django.urls import path

from dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/<slug:kind>/<int:pk>/", views.audit_trail, name="audit_trail"),
    path("audit/<slug:kind>/<int:pk>/csv/", views.audit_trail_csv, name="audit_trail_csv"),
]
