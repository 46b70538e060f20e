"""`/v1/…`: Runway's paths, served by Takes for personal API tokens."""

from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("tasks/<str:task_id>", views.task_detail, name="task"),
    path("uploads", views.upload_create, name="uploads"),
    path("uploads/<str:secret>/file", views.upload_file, name="upload_file"),
    path("organization", views.organization, name="organization"),
    path("organization/usage", views.organization_usage, name="usage"),
    path("outputs/<str:signed>", views.output_download, name="output"),
    # Last: every generation endpoint of the catalog, by Runway's path (generate/video too).
    path("<path:path>", views.generation_create, name="create"),
]
