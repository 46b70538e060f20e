"""Credit pages: a person's credits, a project's budget and spend, staff's organization view."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from core.access import project_view, staff_view
from core.http import confirm_page, safe_next
from runway import client

from . import actions, ledger, organization
from .charts import bar_chart, daily_chart
from .forms import AlertForm, BudgetForm
from .models import Account, DailyUsage, Kind, LedgerEntry, Notice, last_days, utc_today

HISTORY_PER_PAGE = 25
CHART_DAYS = 14
USAGE_CHART_DAYS = 30


def _history_page(request, entries):
    return Paginator(entries.for_page(), HISTORY_PER_PAGE).get_page(request.GET.get("page"))


# --- a person's credits -----------------------------------------------------------------------


def _person_page(request, *, alert_form=None, status=200):
    account = ledger.account_for(request.user)
    days = last_days(CHART_DAYS)
    spend = (LedgerEntry.objects.filter(account=account, kind=Kind.SETTLE)
             .between(days[0], days[-1] + timedelta(days=1)).spend_by_day_and_model())
    context = {
        "account": account,
        "holds": ledger.open_holds(request.user).for_page(),
        "page": _history_page(request, LedgerEntry.objects.for_account(account)),
        "chart": daily_chart(spend, days, title=f"Your spend per day by model, last {CHART_DAYS} days"),
        "alert_form": alert_form or AlertForm(initial={"below": account.alert_below}),
    }
    template = "credits/mine.html"
    if request.htmx and request.method == "GET":
        template += "#history"
    return TemplateResponse(request, template, context, status=status)


@require_GET
def person_credits(request):
    return _person_page(request)


@require_POST
def person_alert(request):
    form = AlertForm(request.POST)
    if not form.is_valid():
        return _person_page(request, alert_form=form, status=400)
    below = form.cleaned_data["below"]
    ledger.set_alert(account=ledger.account_for(request.user), below=below)
    messages.success(request, "Alert removed." if below is None else f"We'll tell you when you drop below {below} credits.")
    return redirect("credits:mine")


@require_POST
def notice_dismiss(request, notice_id):
    notice = get_object_or_404(Notice, pk=notice_id, user=request.user)
    Notice.objects.filter(pk=notice.pk, dismissed_at=None).update(dismissed_at=timezone.now())
    if request.htmx:
        return HttpResponse("")  # the notice's element is swapped away
    return redirect(safe_next(request) or "credits:mine")


# --- a project's budget and spend -------------------------------------------------------------


def _project_page(request, membership, *, budget_form=None, alert_form=None, status=200):
    project = membership.project
    budget = ledger.budget_for(project)
    since = utc_today() - timedelta(days=30)
    charges = LedgerEntry.objects.settled().filter(generation__project=project, usage_date__gte=since)
    per_member = charges.order_by().values("account__user__username", "account__user__first_name",
                                           "account__user__last_name").annotate(total=Sum("credits"))
    per_model = charges.order_by().values("model").annotate(total=Sum("credits"))
    history = LedgerEntry.objects.filter(
        Q(account__project=project)
        | Q(account__project__isnull=True, generation__project=project,
            kind__in=[Kind.SETTLE, Kind.REFUND])
    ).select_related("account__user")
    context = {
        "project": project,
        "membership": membership,
        "budget": budget,
        "holds": ledger.open_holds(project).for_page() if budget else [],
        "budget_form": budget_form or BudgetForm(initial={"amount": budget.total if budget else None}),
        "alert_form": alert_form or AlertForm(initial={"below": budget.alert_below if budget else None}),
        "member_chart": bar_chart(
            [(" ".join(filter(None, [r["account__user__first_name"], r["account__user__last_name"]]))
              or r["account__user__username"], r["total"]) for r in per_member],
            title="Spend per member, last 30 days"),
        "model_chart": bar_chart([(r["model"], r["total"]) for r in per_model],
                                 title="Spend per model, last 30 days"),
        "page": _history_page(request, history),
    }
    template = "credits/project.html"
    if request.htmx and request.method == "GET":
        template += "#history"
    return TemplateResponse(request, template, context, status=status)


@require_GET
@project_view(Role.OWNER)
def project_credits(request, membership):
    return _project_page(request, membership)


@require_POST
@project_view(Role.OWNER)
def project_budget(request, membership):
    form = BudgetForm(request.POST)
    if form.is_valid():
        try:
            actions.set_project_budget(project=membership.project, amount=form.cleaned_data["amount"],
                                      by=request.user)
        except ledger.LedgerError as exc:
            form.add_error("amount", str(exc))
        else:
            messages.success(request, f"Budget set: {form.cleaned_data['amount']} credits left to spend.")
            return redirect("credits:project", slug=membership.project.slug)
    return _project_page(request, membership, budget_form=form, status=400)


@require_http_methods(["GET", "POST"])
@project_view(Role.OWNER)
def project_budget_remove(request, membership):
    project = membership.project
    if request.method == "POST":
        actions.set_project_budget(project=project, amount=None, by=request.user)
        messages.success(request, "Budget removed: only each person's own credits limit this project now.")
        return redirect("credits:project", slug=project.slug)
    return confirm_page(
        request, project=project, title=f"Remove the budget of {project}?",
        body="Members will be limited only by their own credits. Generations in flight still settle "
             "against it. You can set a new budget at any time.",
        action="Remove budget", cancel_url=reverse("credits:project", args=[project.slug]),
    )


@require_POST
@project_view(Role.OWNER)
def project_alert(request, membership):
    budget = ledger.budget_for(membership.project)
    if budget is None:
        messages.error(request, "Set a budget first; alerts watch what is left of it.")
        return _project_page(request, membership, status=400)
    form = AlertForm(request.POST)
    if not form.is_valid():
        return _project_page(request, membership, alert_form=form, status=400)
    below = form.cleaned_data["below"]
    ledger.set_alert(account=budget, below=below)
    messages.success(request, "Alert removed." if below is None
                     else f"Owners will hear when the budget drops below {below} credits.")
    return redirect("credits:project", slug=membership.project.slug)


# --- staff: the organization ------------------------------------------------------------------


@require_GET
@staff_view
def staff_credits(request):
    snapshot = organization.latest_snapshot()
    days = last_days(CHART_DAYS)
    usage_days = last_days(USAGE_CHART_DAYS)
    usage = DailyUsage.objects.between(usage_days[0], usage_days[-1] + timedelta(days=1)).by_day_and_model()
    context = {
        "snapshot": snapshot,
        "limit_rows": snapshot.model_rows() if snapshot else [],
        "usage_chart": daily_chart(usage, usage_days, title=f"Runway usage per day by model, last {USAGE_CHART_DAYS} days"),
        "rows": organization.reconciliation(days),
        "task_rows": organization.task_differences(days),
        "unexplained": organization.unexplained_usage(days),
        "people_total": Account.objects.people().aggregate(b=Sum("balance"), h=Sum("held")),
    }
    return TemplateResponse(request, "credits/staff.html", context)


@require_POST
@staff_view
def staff_sync(request):
    try:
        snapshot = organization.sync_all()
    except client.RunwayError as exc:
        messages.error(request, f"Runway didn't answer the sync: {exc}")
    else:
        messages.success(request, f"Synced: the organization has {snapshot.credit_balance} credits.")
    return redirect("credits:staff")


@require_GET
@staff_view
def staff_reconcile_day(request, day):
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise Http404("No such day") from None
    charges = (LedgerEntry.objects.settled().filter(usage_date=when)
               .select_related("generation", "generation__project", "account__user")
               .order_by("model", "created_at"))
    context = {
        "day": when,
        "rows": organization.reconciliation([when]),
        "task_rows": organization.task_differences([when]),
        "unexplained": organization.unexplained_usage([when]),
        "charges": charges,
        "previous": when - timedelta(days=1),
        "next": when + timedelta(days=1),
    }
    return TemplateResponse(request, "credits/reconcile_day.html", context)
