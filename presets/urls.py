"""A project's presets and prompt library: /p/<slug>/presets/…, /p/<slug>/prompts/"""

from django.urls import path

from . import views

app_name = "presets"

urlpatterns = [
    path("presets/", views.preset_list, name="list"),
    path("presets/save/", views.preset_save, name="save"),
    path("presets/save-form/", views.preset_save_form, name="save_form"),
    path("presets/<int:preset_id>/edit/", views.preset_edit, name="edit"),
    path("presets/<int:preset_id>/delete/", views.preset_delete, name="delete"),
    path("presets/<int:preset_id>/use/", views.preset_use, name="use"),
    path("prompts/", views.prompt_library, name="prompts"),
]
