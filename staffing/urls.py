from django.urls import path

from staffing import views

app_name = "staffing"
urlpatterns = [
    path("training/", views.training, name="training"),
    path("trials/<int:pk>/", views.trial_staff, name="trial_staff"),
]

# The signed-in person's own pages, at the top of the site (croportal/urls.py): /profile/.
account_routes = [
    path("profile/", views.profile, name="profile"),
]
