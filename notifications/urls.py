"""A person's notifications: /notifications/…"""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.mark_all_read, name="read"),
    path("settings/", views.preferences, name="preferences"),
    path("unread/", views.unread, name="unread"),
    path("<int:notification_id>/", views.notification_open, name="open"),
]
