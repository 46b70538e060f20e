"""A project's input assets: /p/<slug>/assets/…"""

from django.urls import path

from . import views

app_name = "assets"

urlpatterns = [
    path("", views.asset_list, name="list"),
    path("<int:asset_id>/delete/", views.asset_delete, name="delete"),
    path("<int:asset_id>/file/", views.asset_file, name="file"),
    path("<int:asset_id>/thumb/", views.asset_thumb, name="thumb"),
]
