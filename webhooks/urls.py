"""A project's webhooks: /p/<slug>/settings/webhooks/…"""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("<int:endpoint_id>/", views.endpoint_detail, name="endpoint"),
    path("<int:endpoint_id>/delete/", views.endpoint_delete, name="delete"),
    path("<int:endpoint_id>/test/", views.endpoint_test, name="test"),
    path("<int:endpoint_id>/active/", views.endpoint_active, name="active"),
    path("<int:endpoint_id>/deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("<int:endpoint_id>/deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="replay"),
]
