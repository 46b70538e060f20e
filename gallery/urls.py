"""The gallery of one project: /p/<slug>/gallery/…"""

from django.urls import path

from . import views

app_name = "gallery"

urlpatterns = [
    path("", views.gallery_index, name="index"),
    path("zip/", views.outputs_zip, name="zip"),
    path("delete/", views.outputs_delete, name="delete"),
    path("shares/", views.share_list, name="shares"),
    path("shares/<int:link_id>/revoke/", views.share_revoke, name="share_revoke"),
    path("<int:output_id>/", views.output_detail, name="output"),
    path("<int:output_id>/favourite/", views.output_favourite, name="favourite"),
    path("<int:output_id>/tags/", views.output_tags, name="tags"),
    path("<int:output_id>/use/", views.output_use, name="use"),
    path("<int:output_id>/share/", views.output_share, name="share"),
]
