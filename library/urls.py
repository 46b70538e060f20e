"""A project's voices, avatars and router configurations: /p/<slug>/voices/, /avatars/, /routers/"""

from django.urls import path

from . import views

app_name = "library"

urlpatterns = [
    path("voices/", views.voice_list, name="voices"),
    path("voices/preview/", views.voice_preview, name="voice_preview"),
    path("voices/keep/", views.voice_create, name="voice_create"),
    path("voices/samples/<str:sample>/", views.voice_sample, name="voice_sample"),
    path("voices/<int:voice_id>/edit/", views.voice_edit, name="voice_edit"),
    path("voices/<int:voice_id>/delete/", views.voice_delete, name="voice_delete"),
    path("voices/<int:voice_id>/audio/", views.voice_audio, name="voice_audio"),
    path("avatars/", views.avatar_list, name="avatars"),
    path("avatars/new/", views.avatar_create, name="avatar_create"),
    path("avatars/<int:avatar_id>/edit/", views.avatar_edit, name="avatar_edit"),
    path("avatars/<int:avatar_id>/delete/", views.avatar_delete, name="avatar_delete"),
    path("routers/", views.router_list, name="routers"),
    path("routers/new/", views.router_create, name="router_create"),
    path("routers/<int:config_id>/", views.router_detail, name="router"),
    path("routers/<int:config_id>/edit/", views.router_edit, name="router_edit"),
    path("routers/<int:config_id>/delete/", views.router_delete, name="router_delete"),
]
