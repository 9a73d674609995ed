from safety.views import cases, queue

app_name = "safety"
urlpatterns = [*cases.urlpatterns, *queue.urlpatterns]
