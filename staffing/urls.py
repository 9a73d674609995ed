from django.urls import path

from staffing import views

app_name = "staffing"
urlpatterns = [
    path("training/", views.training, name="training"),
    path("trials/<int:pk>/", views.trial_staff, name="trial_staff"),
]
