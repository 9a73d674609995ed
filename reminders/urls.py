from django.urls import path

from reminders import export_views, views

app_name = "reminders"
urlpatterns = [
    path("deadlines/", views.my_deadlines, name="my_deadlines"),
    path("deadlines/new/", views.deadline_new, name="deadline_new"),
    path("deadlines/<int:pk>/done/", views.deadline_done, name="deadline_done"),
    path("deadlines/<int:pk>/reassign/", views.deadline_reassign, name="deadline_reassign"),
    path("trials/<int:pk>/deadlines/", views.trial_deadlines, name="trial_deadlines"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path("exports/<int:pk>/", export_views.export_job, name="export_job"),
    path("exports/<int:pk>/progress/", export_views.export_job_bar, name="export_job_bar"),
    path("exports/<int:pk>/file/", export_views.export_job_file, name="export_job_file"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<str:secret>.ics", views.calendar_feed, name="calendar_feed"),
]
