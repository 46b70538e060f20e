"""The gallery of one project: /p/<slug>/gallery/…"""

from django.urls import path

from . import board_views, views

app_name = "gallery"

urlpatterns = [
    path("", views.gallery_index, name="index"),
    path("zip/", views.outputs_zip, name="zip"),
    path("delete/", views.outputs_delete, name="delete"),
    path("trash/", views.trash, name="trash"),
    path("trash/restore/", views.restore, name="restore"),
    path("trash/<int:output_id>/thumb/", views.trash_thumb, name="trash_thumb"),
    path("trash/delete/", views.purge, name="purge"),
    path("boards/", board_views.board_list, name="boards"),
    path("boards/new/", board_views.board_create, name="board_create"),
    path("boards/add/", board_views.board_add, name="board_add"),
    path("boards/<int:board_id>/", board_views.board_page, name="board"),
    path("boards/<int:board_id>/remove/", board_views.board_remove, name="board_remove"),
    path("boards/<int:board_id>/move/", board_views.board_move, name="board_move"),
    path("boards/<int:board_id>/rename/", board_views.board_rename, name="board_rename"),
    path("boards/<int:board_id>/delete/", board_views.board_delete, name="board_delete"),
    path("boards/<int:board_id>/share/", board_views.board_share, name="board_share"),
    path("boards/<int:board_id>/unshare/", board_views.board_unshare, name="board_unshare"),
    path("shares/", views.share_list, name="shares"),
    path("shares/<int:link_id>/revoke/", views.share_revoke, name="share_revoke"),
    path("<int:output_id>/", views.output_detail, name="output"),
    path("<int:output_id>/favourite/", views.output_favourite, name="favourite"),
    path("<int:output_id>/comments/", views.comment_add, name="comment_add"),
    path("<int:output_id>/comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("activity/", views.activity_feed, name="activity"),
    path("<int:output_id>/tags/", views.output_tags, name="tags"),
    path("<int:output_id>/use/", views.output_use, name="use"),
    path("<int:output_id>/share/", views.output_share, name="share"),
]
