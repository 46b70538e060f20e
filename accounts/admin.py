from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Invitation, Membership, Project, User


@admin.register(User)
class TakesUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff", "date_joined"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_personal", "created_at"]
    list_filter = ["is_personal"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "project", "role", "created_at", "expires_at", "accepted_at", "declined_at"]
    search_fields = ["email", "project__name"]
    readonly_fields = ["token_hash"]
