"""People and projects in the ops console: members, roles, invitations, budgets, deactivation.

Changes that have a workflow go through it (`accounts.actions`, `accounts.actions`,
the credits ledger); everything else saved here is written to the audit log.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts import actions
from accounts.models import ApiToken, Invitation, Membership, Project, Role, User
from credits import actions as credit_actions
from credits.ledger import LedgerError, token_spend
from generations.models import IN_FLIGHT, Generation

from .kit import AuditedModelAdmin, can_operate


def _credits_link(account) -> str:
    if account is None:
        return "—"
    url = reverse("admin:credits_account_change", args=[account.pk])
    return format_html('<a href="{}">{} left, {} held</a>', url, account.balance, account.held)


# --- people ---------------------------------------------------------------------------------------


class ReadOnlyMembershipInline(admin.TabularInline):
    """Memberships shown on a person or a project; roles change on each membership's own page."""

    model = Membership
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class UserMembershipInline(ReadOnlyMembershipInline):
    fk_name = "user"
    fields = readonly_fields = ["project", "role", "created_at"]
    verbose_name_plural = "projects"


@admin.register(User)
class TakesUserAdmin(AuditedModelAdmin, UserAdmin):
    list_display = ["username", "email", "full_name", "active_badge", "is_staff", "credits", "in_flight",
                    "last_login", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]
    list_select_related = ["credit_account"]
    readonly_fields = ["is_active", "last_login", "date_joined", "credits", "in_flight"]
    inlines = [UserMembershipInline]
    actions = ["deactivate_selected", "reactivate_selected"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Status", {"fields": ["is_active", "credits", "in_flight"],
                    "description": "Deactivate or reactivate with the actions on the list of people: "
                                   "a deactivated person's generations in flight finish; new ones are refused."}),
        ("Permissions", {"classes": ["collapse"],
                         "fields": ["is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            in_flight_count=Count("generations", filter=Q(generations__status__in=IN_FLIGHT), distinct=True)
        )

    @admin.display(description="Name")
    def full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description="Active", ordering="is_active")
    def active_badge(self, obj):
        if obj.is_active:
            return mark_safe('<span class="ops-badge ops-ok">active</span>')  # noqa: S308 — constant markup
        return mark_safe('<span class="ops-badge ops-bad">deactivated</span>')  # noqa: S308 — constant markup

    @admin.display(description="Credits")
    def credits(self, obj):
        return _credits_link(getattr(obj, "credit_account", None))

    @admin.display(description="In flight", ordering="in_flight_count")
    def in_flight(self, obj):
        count = getattr(obj, "in_flight_count", None)
        if count is None:
            count = Generation.objects.in_flight().filter(created_by=obj).count()
        if not count:
            return 0
        url = reverse("admin:generations_generation_changelist")
        return format_html('<a href="{}?stage=in_flight&amp;created_by__id__exact={}">{}</a>', url, obj.pk, count)

    def has_operate_permission(self, request):
        return can_operate(request, User)

    @admin.action(description="Deactivate selected people (in-flight work finishes)", permissions=["operate"])
    def deactivate_selected(self, request, queryset):
        done = []
        for user in queryset:
            if user.pk == request.user.pk:
                self.message_user(request, "You cannot deactivate yourself.", messages.ERROR)
                continue
            if actions.deactivate_user(user=user, by=request.user):
                done.append(user.username)
        if done:
            self.message_user(request, f"Deactivated: {', '.join(done)}. Their generations in flight will "
                              "finish; they cannot sign in or start new ones.", messages.SUCCESS)

    @admin.action(description="Reactivate selected people", permissions=["operate"])
    def reactivate_selected(self, request, queryset):
        done = [u.username for u in queryset if actions.reactivate_user(user=u, by=request.user)]
        if done:
            self.message_user(request, f"Reactivated: {', '.join(done)}.", messages.SUCCESS)


# --- projects -------------------------------------------------------------------------------------


class ProjectMembershipInline(ReadOnlyMembershipInline):
    fk_name = "project"
    fields = readonly_fields = ["user", "role", "created_at"]
    verbose_name_plural = "members (change roles on each membership)"


class ProjectInvitationInline(admin.TabularInline):
    model = Invitation
    extra = 0
    fields = ["email", "role", "invited_by", "created_at", "expires_at", "state"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="State")
    def state(self, obj):
        return obj.state


class BudgetForm(forms.Form):
    amount = forms.IntegerField(label="Budget (credits)", min_value=0, required=False,
                                help_text="What the project may still spend, in-flight holds included. "
                                          "Leave empty to remove the budget.")
    note = forms.CharField(label="Reason", max_length=300, required=False)


@admin.register(Project)
class ProjectAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "is_personal", "member_count", "budget", "created_by", "created_at"]
    list_filter = ["is_personal", "created_at"]
    search_fields = ["name", "slug", "memberships__user__username"]
    list_select_related = ["created_by", "credit_budget"]
    fields = ["name", "slug", "is_personal", "created_by", "created_at", "budget"]
    readonly_fields = ["is_personal", "created_by", "created_at", "budget"]
    inlines = [ProjectMembershipInline, ProjectInvitationInline]

    def has_add_permission(self, request):
        return False  # projects are made by people in the app, with their first owner

    def has_delete_permission(self, request, obj=None):
        return False  # a project holds paid work and ledger history

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships", distinct=True))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj):
        return getattr(obj, "member_count", None) or obj.memberships.count()

    @admin.display(description="Budget")
    def budget(self, obj):
        account = getattr(obj, "credit_budget", None)
        text = (f"{account.balance + account.held} ({account.balance} left, {account.held} held)"
                if account is not None and account.enforced else "no budget")
        if obj.pk is None:
            return text
        url = reverse("admin:accounts_project_budget", args=[obj.pk])
        return format_html('{} · <a href="{}">set budget…</a>', text, url)

    def get_urls(self):
        return [
            path("<int:project_id>/budget/", self.admin_site.admin_view(self.budget_view),
                 name="accounts_project_budget"),
            *super().get_urls(),
        ]

    def budget_view(self, request, project_id: int):
        if not can_operate(request, Project):
            raise PermissionDenied
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise Http404("No such project")
        current = credit_actions.budget_state(project)
        form = BudgetForm(request.POST or None, initial={"amount": current["budget"]})
        if request.method == "POST" and form.is_valid():
            try:
                credit_actions.set_project_budget(project=project, amount=form.cleaned_data["amount"], by=request.user,
                                           note=form.cleaned_data["note"])
            except LedgerError as exc:
                form.add_error("amount", str(exc))
            else:
                amount = form.cleaned_data["amount"]
                self.message_user(request, f"Budget of {project} set to {amount}." if amount is not None
                                  else f"Budget of {project} removed.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:accounts_project_change", args=[project.pk]))
        context = {**self.admin_site.each_context(request), "title": f"Budget of {project}", "opts": self.opts,
                   "original": project, "form": form, "current": current, "subtitle": None}
        return TemplateResponse(request, "admin/accounts/project/budget.html", context,
                                status=400 if request.method == "POST" else 200)


# --- memberships and invitations --------------------------------------------------------------------


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        m = self.instance
        if m.pk and m.role == Role.OWNER and role != Role.OWNER and m.project.owners().count() <= 1:
            raise forms.ValidationError("A project needs at least one owner. Make someone else an owner first.")
        return role


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project__is_personal"]
    search_fields = ["user__username", "user__email", "project__name", "project__slug"]
    list_select_related = ["user", "project"]
    form = MembershipForm
    fields = ["user", "project", "role", "created_at"]
    readonly_fields = ["user", "project", "created_at"]

    def has_add_permission(self, request):
        return False  # people join by invitation

    def has_delete_permission(self, request, obj=None):
        return False  # removal goes through the project's members page, which keeps an owner

    def save_model(self, request, obj, form, change):
        # Through the workflow, which refuses to demote the last owner.
        try:
            actions.change_role(membership=obj, role=obj.role, by=request.user)
        except actions.ProjectError as exc:
            self.message_user(request, str(exc), messages.ERROR)


@admin.register(Invitation)
class InvitationAdmin(AuditedModelAdmin):
    list_display = ["email", "project", "role", "state_badge", "invited_by", "created_at", "expires_at"]
    list_filter = ["role", "created_at"]
    search_fields = ["email", "project__name"]
    list_select_related = ["project", "invited_by"]
    fields = ["email", "project", "role", "invited_by", "created_at", "expires_at", "accepted_at", "accepted_by",
              "declined_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False  # an invitation's token is shown once to the person who issues it in the app

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request):
        return can_operate(request, Invitation)

    @admin.display(description="State")
    def state_badge(self, obj):
        colour = {"pending": "wait", "accepted": "ok", "expired": "muted"}.get(obj.state, "bad")
        return format_html('<span class="ops-badge ops-{}">{}</span>', colour, obj.state)

    @admin.action(description="Revoke selected pending invitations", permissions=["operate"])
    def revoke_selected(self, request, queryset):
        revoked = 0
        for invitation in queryset:
            if not invitation.is_pending:
                continue
            try:
                actions.revoke_invitation(invitation=invitation, by=request.user)
            except actions.ProjectError:
                continue  # accepted or withdrawn meanwhile
            revoked += 1
        self.message_user(request, f"Revoked {revoked} invitation(s).", messages.SUCCESS)




# --- personal API tokens ----------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every person's API tokens: staff see them all and revoke any (the secret is never stored, so never shown)."""

    list_display = ["name", "prefix", "user", "project", "state_badge", "credit_limit", "spent", "rate_limit",
                    "last_used_at", "created_at", "expires_at"]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "prefix", "user__username", "project__name"]
    list_select_related = ["user", "project"]
    fields = ["name", "prefix", "user", "project", "credit_limit", "spent", "rate_limit", "created_at",
              "expires_at", "last_used_at", "revoked_at", "revoked_by"]
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False  # a token's secret is shown once to the person who makes it, in the app

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: its generations name it

    def has_operate_permission(self, request):
        return can_operate(request, ApiToken)

    @admin.display(description="Spent (held and charged)")
    def spent(self, obj):
        return token_spend(obj.pk)

    @admin.display(description="State")
    def state_badge(self, obj):
        colour = {"active": "ok", "expired": "muted"}.get(obj.state, "bad")
        return format_html('<span class="ops-badge ops-{}">{}</span>', colour, obj.state)

    @admin.action(description="Revoke selected tokens (scripts using them get 401 at once)", permissions=["operate"])
    def revoke_selected(self, request, queryset):
        done = [t.name for t in queryset if actions.revoke_api_token(token=t, by=request.user)]
        if done:
            self.message_user(request, f"Revoked: {', '.join(done)}.", messages.SUCCESS)
