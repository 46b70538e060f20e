"""Assets, generations and their media inside one project: /p/<slug>/…"""

from django.urls import path

from . import media_views, views

app_name = "generations"

urlpatterns = [
    path("assets/", views.asset_list, name="assets"),
    path("assets/<int:asset_id>/delete/", views.asset_delete, name="asset_delete"),
    path("assets/<int:asset_id>/file/", media_views.asset_file, name="asset_file"),
    path("assets/<int:asset_id>/thumb/", media_views.asset_thumb, name="asset_thumb"),
    path("generate/", views.generation_new, name="new"),
    path("generations/<int:generation_id>/", views.generation_detail, name="detail"),
    path("generations/<int:generation_id>/cancel/", views.generation_cancel, name="cancel"),
    path("generations/<int:generation_id>/retry/", views.generation_retry, name="retry"),
    path("queue/", views.generation_queue, name="queue"),
    path("outputs/<int:output_id>/file/", media_views.output_file, name="output_file"),
    path("outputs/<int:output_id>/thumb/", media_views.output_thumb, name="output_thumb"),
]
