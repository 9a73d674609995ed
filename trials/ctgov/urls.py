from django.urls import path

from trials.ctgov import views

app_name = "ctgov"
urlpatterns = [
    path("", views.ctgov_upload, name="upload"),
    path("history/", views.ctgov_history, name="history"),
    path("<int:pk>/", views.ctgov_preview, name="preview"),
    path("<int:pk>/progress/", views.ctgov_progress, name="progress"),
    path("<int:pk>/progress/bar/", views.ctgov_progress_bar, name="progress_bar"),
]
