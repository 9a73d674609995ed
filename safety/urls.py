from safety.views import cases, lists, queue

app_name = "safety"
urlpatterns = [*cases.urlpatterns, *queue.urlpatterns, *lists.urlpatterns]
