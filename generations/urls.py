"""Generations and their outputs' files inside one project: /p/<slug>/…"""

from django.urls import path

from . import media_views, views

app_name = "generations"

urlpatterns = [
    path("", views.project_home, name="home"),
    path("generate/", views.generation_new, name="new"),
    path("generate/estimate/", views.generation_estimate, name="estimate"),
    path("generations/<int:generation_id>/", views.generation_detail, name="detail"),
    path("generations/<int:generation_id>/cancel/", views.generation_cancel, name="cancel"),
    path("generations/<int:generation_id>/retry/", views.generation_retry, name="retry"),
    path("queue/", views.generation_queue, name="queue"),
    path("groups/<int:group_id>/cancel/", views.group_cancel, name="group_cancel"),
    path("groups/<int:group_id>/retry/", views.group_retry, name="group_retry"),
    path("queue/updates/", views.generation_updates, name="updates"),
    path("outputs/<int:output_id>/as/<slug:role>/", views.output_as_input, name="output_as"),
    path("outputs/<int:output_id>/file/", media_views.output_file, name="output_file"),
    path("outputs/<int:output_id>/thumb/", media_views.output_thumb, name="output_thumb"),
    path("outputs/<int:output_id>/play/", media_views.output_play, name="output_play"),
]
