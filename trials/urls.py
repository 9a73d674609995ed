from django.urls import path

from trials import views

app_name = "trials"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("<int:pk>/", views.trial_detail, name="detail"),
    path("<int:pk>/edit/", views.trial_edit, name="edit"),
]
