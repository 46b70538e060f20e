"""URLs of one project space: /p/<slug>/…"""

from django.urls import path

from . import project_views as views

app_name = "projects"

urlpatterns = [
    path("members/", views.member_list, name="members"),
    path("members/invite/", views.member_invite, name="invite"),
    path("members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<int:invitation_id>/request/", views.invitation_request, name="invitation_request"),
    path("leave/", views.project_leave, name="leave"),
    path("settings/", views.project_settings, name="settings"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
