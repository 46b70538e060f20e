"""Generations in the ops console: read-only rows, filters that find what is stuck, and operator actions.

Every action goes through the workflow functions the app itself uses
(`pipeline`, `credits.ledger`) and is written to the audit log with the
generation's state before and after. Nothing here edits a field directly.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from audit.log import record, snapshot
from credits import actions as credit_actions
from credits import ledger
from credits.models import Hold, HoldState
from generations import cancel, resolve, submit
from generations.models import IN_FLIGHT, Generation, Status
from ops.health import STALE_AFTER
from runway import catalog

from .kit import can_operate, pretty_json

AUDIT_FIELDS = ("status", "needs_attention", "attention_reason", "runway_task_id", "failure_code",
                "failure_message", "estimated_credits", "cost_credits", "finished_at")

STATUS_COLOURS = {
    Status.SUCCEEDED: "ok", Status.FAILED: "bad", Status.CANCELLED: "muted",
    Status.THROTTLED: "wait", Status.QUEUED: "wait",
}


def generation_state(generation: Generation) -> dict:
    """What the audit log keeps of a generation: its status fields and its credit holds."""
    state = snapshot(generation, AUDIT_FIELDS)
    state["holds"] = {str(h.account_id): {"state": h.state, "amount": h.amount, "charged": h.charged,
                                          "refunded": h.refunded_at is not None}
                      for h in Hold.objects.filter(generation=generation).order_by("account_id")}
    return state


# --- operations ---------------------------------------------------------------------------------


def _is_flagged(g: Generation) -> bool:
    return g.status == Status.SUBMITTING and not g.runway_task_id and g.needs_attention


def _refundable(g: Generation) -> bool:
    return Hold.objects.filter(generation=g, state=HoldState.SETTLED, refunded_at=None, charged__gt=0).exists()


# Each operation runs through the workflow a person's click would, and passes `audit` to it:
# the workflow calls it inside the transaction of the change, so the entry and the change
# are kept together.


def _retry(request, g: Generation, data: dict, audit) -> tuple[bool, str]:
    # The retry is the person's own work again, so it is accounted to them, not to the operator.
    new = submit.retry_generation(generation=g, user=g.created_by,
                                  on_change=lambda new: audit(f"queued again as generation #{new.pk}"))
    return True, f"queued again as generation #{new.pk}"


def _cancel(request, g: Generation, data: dict, audit) -> tuple[bool, str]:
    done = "cancelled; the Runway task was deleted and the hold settled or released"
    cancelled = cancel.cancel_generation(generation=g, on_change=lambda _g: audit(done))
    if cancelled:
        return True, done
    outcome = cancel.outcome_of(g, cancelled=False)
    if outcome is cancel.Outcome.KEPT:
        return False, "had already finished at Runway, so it was kept; its outputs are being copied"
    if outcome is cancel.Outcome.FAILED:
        return False, "had already failed at Runway; nothing to cancel"
    return False, "had already finished; nothing to cancel"


def _resolve_submitted(request, g: Generation, data: dict, audit) -> tuple[bool, str]:
    done = f"recorded Runway task {data['task_id']}; polling resumes"
    if resolve.resolve_as_submitted(generation=g, task_id=data["task_id"], on_change=lambda _g: audit(done)):
        return True, done
    return False, "was no longer waiting for a decision; nothing changed"


def _resolve_failed(request, g: Generation, data: dict, audit) -> tuple[bool, str]:
    done = "marked failed; its credit hold was released"
    if resolve.resolve_as_failed(generation=g, note=data.get("note", ""), on_change=lambda _g: audit(done)):
        return True, done
    return False, "was no longer waiting for a decision; nothing changed"


def _refund(request, g: Generation, data: dict, audit) -> tuple[bool, str]:
    done = "refunded the credits charged for it"
    if credit_actions.refund_generation(generation=g, by=request.user, note=data.get("note") or "Refunded by ops",
                                        on_change=lambda: audit(done)):
        return True, done
    return False, "had no charge left to refund"


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    explain: str
    available: object
    run: object
    needs_task_id: bool = False
    danger: bool = False


OPERATIONS = {op.name: op for op in [
    Operation("retry", "Retry", "Submit the same settings again as a new generation, "
              "holding credits from the person who made it.", lambda g: g.can_retry, _retry),
    Operation("cancel", "Cancel", "Stop it: the Runway task is deleted and the credit hold released "
              "(or charged, if Runway was already generating); one Runway has already finished is kept.",
              lambda g: g.can_cancel, _cancel, danger=True),
    Operation("resolve-submitted", "Resolve: Runway has it",
              "You found the task at Runway. Record its id and Takes follows it from there.",
              _is_flagged, _resolve_submitted, needs_task_id=True),
    Operation("resolve-failed", "Resolve: Runway doesn't have it",
              "You checked Runway and there is no task. Mark it failed and release the credit hold.",
              _is_flagged, _resolve_failed, danger=True),
    Operation("refund", "Refund", "Give back the credits charged for it (once).", _refundable, _refund),
]}


class OperateForm(forms.Form):
    note = forms.CharField(label="Note for the audit log", required=False, max_length=300,
                           widget=forms.TextInput(attrs={"size": 60}))


class ResolveSubmittedForm(OperateForm):
    task_id = forms.CharField(label="Runway task id", max_length=64,
                              widget=forms.TextInput(attrs={"size": 40, "autofocus": True}))

    def clean_task_id(self) -> str:
        value = self.cleaned_data["task_id"].strip()
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise forms.ValidationError(
                "That is not a Runway task id. They look like 4f6c1c2e-9a3b-4d1e-8f3a-2b7c6d5e4f10 — "
                "copy the whole id from Runway's dashboard or API."
            ) from None


# --- filters ------------------------------------------------------------------------------------


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "needs_attention"

    def lookups(self, request, model_admin):
        return [("yes", "Needs attention"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(needs_attention=True)
        if self.value() == "no":
            return queryset.filter(needs_attention=False)
        return queryset


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        minutes = int(STALE_AFTER.total_seconds() // 60)
        return [("yes", f"In flight, untouched for {minutes}+ min or flagged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=IN_FLIGHT).filter(
                Q(needs_attention=True) | Q(updated_at__lt=timezone.now() - STALE_AFTER)
            )
        return queryset


class InFlightFilter(admin.SimpleListFilter):
    title = "stage"
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [("in_flight", "In flight"), ("finished", "Finished")]

    def queryset(self, request, queryset):
        if self.value() == "in_flight":
            return queryset.filter(status__in=IN_FLIGHT)
        if self.value() == "finished":
            return queryset.exclude(status__in=IN_FLIGHT)
        return queryset


class FailureCodeFilter(admin.SimpleListFilter):
    """The failure codes on record; a generation that did not fail has none, and no empty choice."""

    title = "failure code"
    parameter_name = "failure_code"

    def lookups(self, request, model_admin):
        codes = (Generation.objects.exclude(failure_code="").order_by("failure_code")
                 .values_list("failure_code", flat=True).distinct())
        return [(code, code) for code in codes]

    def queryset(self, request, queryset):
        return queryset.filter(failure_code=self.value()) if self.value() else queryset


# --- the admin ----------------------------------------------------------------------------------


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "status_badge", "endpoint_label", "model", "project", "created_by", "credits", "age",
                    "short_prompt"]
    list_display_links = ["id", "status_badge"]
    list_filter = [NeedsAttentionFilter, StuckFilter, InFlightFilter, "status", "endpoint", "model",
                   ("project", admin.RelatedOnlyFieldListFilter), ("created_by", admin.RelatedOnlyFieldListFilter),
                   "created_at", FailureCodeFilter]
    search_fields = ["=runway_task_id", "prompt"]
    search_help_text = "A Runway task id (exact) or words from the prompt."
    list_select_related = ["project", "created_by"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    actions = ["retry_selected", "cancel_selected", "resolve_submitted_selected", "resolve_failed_selected",
               "refund_selected"]
    fieldsets = [
        (None, {"fields": ["status_badge", "attention_reason", "operations", "project", "created_by",
                           "endpoint", "model", "prompt", "retry_of", "progress"]}),
        ("Times", {"fields": ["created_at", "submitted_at", "started_at", "finished_at", "updated_at",
                              "age"]}),
        ("Credits", {"fields": ["estimated_credits", "cost_credits", "ledger"]}),
        ("Runway", {"fields": ["runway_task_id", "cancel_answer", "failure_code", "failure_message",
                               "runway_failure", "params_json", "request_json", "response_json", "task_json_pretty"]}),
        ("Pipeline", {"classes": ["collapse"],
                      "fields": ["next_poll_at", "poll_errors", "step_errors"]}),
    ]
    readonly_fields = [f for _, opts in fieldsets for f in opts["fields"]]

    # Rows change only through the pipeline: no adding, editing or deleting here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request):
        return can_operate(request, Generation)

    # --- columns and fields ---

    @admin.display(description="Endpoint", ordering="endpoint")
    def endpoint_label(self, obj):
        # "Image → Video" wraps between words in a narrow list; the wire name is on the row's page.
        endpoint = catalog.ENDPOINTS.get(obj.endpoint)
        return endpoint.label if endpoint else obj.endpoint

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        badge = format_html('<span class="ops-badge ops-{}">{}</span>', STATUS_COLOURS.get(obj.status, "run"),
                            obj.get_status_display())
        if obj.needs_attention:
            badge = format_html('{} <span class="ops-badge ops-alert" title="{}">needs attention</span>', badge,
                                obj.attention_reason)
        return badge

    @admin.display(description="Credits")
    def credits(self, obj):
        if obj.cost_credits is None:
            return format_html("~{}", obj.estimated_credits)
        return obj.cost_credits

    @admin.display(description="Age", ordering="-created_at")
    def age(self, obj):
        return timesince(obj.created_at, obj.finished_at or timezone.now())

    @admin.display(description="Prompt")
    def short_prompt(self, obj):
        return obj.prompt if len(obj.prompt) <= 48 else obj.prompt[:47] + "…"

    @admin.display(description="Settings")
    def params_json(self, obj):
        return pretty_json(obj.params)

    @admin.display(description="Request sent")
    def request_json(self, obj):
        return pretty_json(obj.request_payload)

    @admin.display(description="Create response")
    def response_json(self, obj):
        return pretty_json(obj.create_response)

    @admin.display(description="Task (last poll)")
    def task_json_pretty(self, obj):
        return pretty_json(obj.task_json)

    @admin.display(description="Ledger")
    def ledger(self, obj):
        entries = list(obj.ledger_entries.select_related("account__user", "account__project", "by")
                       .order_by("created_at", "id"))
        if not entries:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e.created_at.strftime("%Y-%m-%d %H:%M:%S"), e.get_kind_display(), e.credits, e.account,
              e.note or "") for e in entries),
        )
        return format_html('<table class="ops-mini"><tr><th>When</th><th>Kind</th><th>Credits</th>'
                           "<th>Account</th><th>Note</th></tr>{}</table>", rows)

    @admin.display(description="Operate")
    def operations(self, obj):
        ops = [op for op in OPERATIONS.values() if op.available(obj)]
        if not ops:
            return "Nothing to do: no operator action applies in this state."
        return format_html_join(
            " ", '<a class="button ops-op{}" href="{}">{}</a>',
            ((" ops-danger" if op.danger else "", self._op_url(obj, op.name), op.label) for op in ops),
        )

    def _op_url(self, obj, name: str) -> str:
        return reverse("admin:generations_generation_operate", args=[obj.pk, name])

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_operate_permission(request):
            return fieldsets
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "operations"]})
                for name, opts in fieldsets]

    # --- operating one generation ---

    def get_urls(self):
        return [
            path("<path:object_id>/operate/<str:op>/", self.admin_site.admin_view(self.operate_view),
                 name="generations_generation_operate"),
            *super().get_urls(),
        ]

    def operate(self, request, generation: Generation, op: Operation, data: dict) -> tuple[bool, str]:
        """Run one operation through its workflow and log it with the state before and after."""
        before = generation_state(generation)

        def audit(outcome: str) -> None:
            generation.refresh_from_db()  # inside the change's transaction: the state it leaves
            note = " — ".join(filter(None, [data.get("note", ""), outcome]))
            record(actor=request.user, action=f"generation.{op.name}", obj=generation, before=before,
                   after=generation_state(generation), note=note)

        try:
            changed, outcome = op.run(request, generation, data, audit)
        except (submit.SubmissionError, ledger.LedgerError) as exc:
            changed, outcome = False, f"refused: {exc}"
        if not changed:
            with transaction.atomic():
                audit(outcome)  # the attempt is logged too; it changed nothing
        generation.refresh_from_db()
        return changed, outcome

    def operate_view(self, request, object_id: str, op: str):
        if not self.has_operate_permission(request):
            raise PermissionDenied
        operation = OPERATIONS.get(op)
        generation = self.get_object(request, object_id)
        if operation is None or generation is None:
            raise Http404("No such generation or operation")
        change_url = reverse("admin:generations_generation_change", args=[generation.pk])
        form_class = ResolveSubmittedForm if operation.needs_task_id else OperateForm
        form = form_class(request.POST or None)
        available = operation.available(generation)
        if request.method == "POST" and available and form.is_valid():
            changed, outcome = self.operate(request, generation, operation, form.cleaned_data)
            level = messages.SUCCESS if changed else messages.WARNING
            self.message_user(request, f"Generation #{generation.pk} {outcome.rstrip('.')}.", level)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{operation.label}: generation #{generation.pk}",
            "opts": self.opts, "original": generation, "operation": operation, "form": form,
            "available": available, "change_url": change_url, "subtitle": None,
        }
        return TemplateResponse(request, "admin/generations/generation/operate.html", context,
                                status=400 if request.method == "POST" else 200)

    # --- operating many from the list ---

    def _bulk(self, request, queryset, name: str) -> None:
        op = OPERATIONS[name]
        done, skipped, refused = [], 0, []
        for generation in queryset.select_related("project", "created_by"):
            if not op.available(generation):
                skipped += 1
                continue
            changed, outcome = self.operate(request, generation, op, {})
            (done if changed else refused).append(f"#{generation.pk} {outcome}")
        if done:
            self.message_user(request, f"{op.label}: " + "; ".join(done) + ".", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{op.label} did not apply: " + "; ".join(refused) + ".", messages.WARNING)
        if skipped:
            self.message_user(request, f"{op.label}: {skipped} selected generation(s) were not in a state "
                              "this applies to, and were left alone.", messages.INFO)

    @admin.action(description="Retry selected failed or cancelled generations", permissions=["operate"])
    def retry_selected(self, request, queryset):
        self._bulk(request, queryset, "retry")

    @admin.action(description="Cancel selected in-flight generations", permissions=["operate"])
    def cancel_selected(self, request, queryset):
        self._bulk(request, queryset, "cancel")

    @admin.action(description="Resolve flagged: Runway has it (enter the task id)…", permissions=["operate"])
    def resolve_submitted_selected(self, request, queryset):
        flagged = [g for g in queryset if _is_flagged(g)]
        if len(flagged) != 1:
            self.message_user(request, "Select exactly one generation that needs attention: each needs its own "
                              "Runway task id.", messages.WARNING)
            return None
        return redirect(self._op_url(flagged[0], "resolve-submitted"))

    @admin.action(description="Resolve flagged: Runway doesn't have it (fail and release)",
                  permissions=["operate"])
    def resolve_failed_selected(self, request, queryset):
        self._bulk(request, queryset, "resolve-failed")

    @admin.action(description="Refund selected generations' charges", permissions=["operate"])
    def refund_selected(self, request, queryset):
        self._bulk(request, queryset, "refund")


