from django.urls import path

from safety import views

app_name = "safety"
urlpatterns = [
    path("adverse-events/<int:pk>/", views.ae_detail, name="ae_detail"),
    path("adverse-events/<int:pk>/review/", views.ae_review, name="ae_review"),
    path("ctcae/", views.ctcae_search, name="ctcae_search"),
]
