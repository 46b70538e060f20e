"""Credit URLs: /credits/ for each person, /p/<slug>/credits/ for project owners, /staff/credits/."""

from django.urls import path

from . import views

app_name = "credits"

urlpatterns = [
    path("credits/", views.person_credits, name="mine"),
    path("credits/alert/", views.person_alert, name="alert"),
    path("credits/notices/<int:notice_id>/dismiss/", views.notice_dismiss, name="notice_dismiss"),
    path("p/<slug:slug>/credits/", views.project_credits, name="project"),
    path("p/<slug:slug>/credits/budget/", views.project_budget, name="budget"),
    path("p/<slug:slug>/credits/budget/remove/", views.project_budget_remove, name="budget_remove"),
    path("p/<slug:slug>/credits/alert/", views.project_alert, name="project_alert"),
    path("staff/credits/", views.staff_credits, name="staff"),
    path("staff/credits/sync/", views.staff_sync, name="staff_sync"),
    path("staff/credits/reconcile/<str:day>/", views.staff_reconcile_day, name="reconcile_day"),
]
