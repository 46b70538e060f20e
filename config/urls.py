"""Every URL of Takes: each app's patterns under its prefix, and the ops admin site."""

from django.contrib import admin
from django.urls import include, path

from accounts import project_views
from accounts import views as account_views
from core import converters
from gallery import share_views

converters.register()

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("projects/", project_views.project_list, name="project_list"),
    path("notifications/", include("notifications.urls")),
    path("invitations/<token:token>/", project_views.invitation, name="invitation"),
    path("p/<slug:slug>/", include("accounts.project_urls")),
    path("p/<slug:slug>/", include("generations.urls")),
    path("p/<slug:slug>/assets/", include("assets.urls")),
    path("p/<slug:slug>/gallery/", include("gallery.urls")),
    path("p/<slug:slug>/", include("presets.urls")),
    path("p/<slug:slug>/", include("library.urls")),
    path("p/<slug:slug>/settings/webhooks/", include("webhooks.urls")),
    path("s/<token:token>/", share_views.share_page, name="share"),
    path("s/<token:token>/media/", share_views.share_media, name="share_media"),
    path("s/<token:token>/poster/", share_views.share_poster, name="share_poster"),
    path("s/<token:token>/play/", share_views.share_play, name="share_play"),
    path("b/<token:token>/", share_views.board_page, name="board_share"),
    path("b/<token:token>/<int:output_id>/play/", share_views.board_play, name="board_share_play"),
    path("b/<token:token>/<int:output_id>/poster/", share_views.board_poster, name="board_share_poster"),
    path("", include("credits.urls")),
    path("admin/", admin.site.urls),
    path("v1/", include("api.urls")),
]
