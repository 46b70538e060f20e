"""The shape of the code: one-way dependencies, one of each shared piece, audit entries inside their change."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import RequestFactory

from accounts import actions as account_actions
from audit.log import record
from audit.models import AuditEntry
from core.access import staff_view
from core.http import safe_next
from credits.models import Account
from ops.site import TakesAdminSite

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "core", "audit", "accounts", "assets", "runway", "generations", "gallery", "credits", "ops",
        "emulator"]


def app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_import_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_no_app_module_imports_inside_a_function():
    local = []
    for path in app_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                local += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(func)
                          if isinstance(node, ast.Import | ast.ImportFrom)]
    assert local == []


def test_one_of_each_shared_piece():
    """Each of these is defined once in the whole code base (they once stood two or three times)."""
    counts: dict[str, list[str]] = {}
    wanted = {"AccountAdmin", "safe_next", "_safe_next", "staff_only", "staff_view", "close_hold",
              "FAILURE_MESSAGES", "FAILURE_HINTS", "serve_file"}
    for path in app_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            for name in set(names) & wanted:
                counts.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert {name: len(places) for name, places in counts.items()} == {
        "AccountAdmin": 1, "safe_next": 1, "staff_view": 1, "close_hold": 1, "FAILURE_MESSAGES": 1,
        "serve_file": 1,
    }, counts


def test_the_admin_is_the_takes_site_with_its_pages_among_its_own_urls():
    assert isinstance(admin.site, TakesAdminSite)
    assert "get_urls" not in vars(admin.site)  # no patched-in URLs
    names = {getattr(p, "name", None) for p in admin.site.get_urls()}
    assert "ops_queue_health" in names
    assert "ledger" in admin.site._registry[Account].readonly_fields


def test_staff_view_keeps_the_views_name_and_hides_the_page():
    def the_page(request):
        """Staff only."""
        return "shown"

    wrapped = staff_view(the_page)
    assert (wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__) == ("the_page", "Staff only.", the_page)


def test_safe_next_stays_on_this_site_and_inside_the_given_prefix():
    factory = RequestFactory()

    def pick(target: str, within: str = "") -> str | None:
        return safe_next(factory.get("/", {"next": target}), within=within)

    assert pick("/p/moon/queue/", within="/p/moon/") == "/p/moon/queue/"
    assert pick("/p/other/queue/", within="/p/moon/") is None
    assert pick("https://evil.example/p/moon/") is None
    assert pick("//evil.example/") is None
    assert pick("/credits/") == "/credits/"


@pytest.mark.django_db(transaction=True)
def test_an_audit_entry_cannot_be_written_outside_the_transaction_of_its_change(owner):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record(actor=owner, action="user.deactivate", obj=owner)
    assert not AuditEntry.objects.filter(action="user.deactivate").exists()


@pytest.mark.django_db(transaction=True)
def test_an_audit_entry_goes_with_its_change_when_the_change_is_undone(owner, editor):
    project = account_actions.create_team_project(user=owner, name="Lighthouse")
    invitation, _token = account_actions.invite_member(project=project, invited_by=owner, who=editor.email,
                                                       role="editor")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        account_actions.revoke_invitation(invitation=invitation, by=owner)
        1 / 0  # anything that fails later in the same request
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert not AuditEntry.objects.filter(action="invitation.revoke").exists()
    account_actions.revoke_invitation(invitation=invitation, by=owner)
    assert AuditEntry.objects.get(action="invitation.revoke").actor == owner


@pytest.mark.django_db
def test_every_change_to_people_and_projects_is_audited(owner, editor, stranger):
    project = account_actions.create_team_project(user=owner, name="Harbour")
    invitation, _ = account_actions.invite_member(project=project, invited_by=owner, who=editor.email,
                                                  role="viewer")
    membership = account_actions.accept_invitation(invitation=invitation, user=editor)
    account_actions.change_role(membership=membership, role="editor", by=owner)
    account_actions.remove_member(membership=membership, by=owner)
    other, _ = account_actions.invite_member(project=project, invited_by=owner, who=stranger.email, role="viewer")
    account_actions.decline_invitation(invitation=other, by=stranger)
    account_actions.deactivate_user(user=stranger, by=owner)
    account_actions.reactivate_user(user=stranger, by=owner)
    entries = list(AuditEntry.objects.filter(created_at__gte=project.created_at).order_by("id")
                   .values_list("action", "actor__username"))
    assert entries == [
        ("project.create", "olivia"), ("invitation.create", "olivia"), ("invitation.accept", "eddie"),
        ("membership.role", "olivia"), ("membership.remove", "olivia"), ("invitation.create", "olivia"),
        ("invitation.decline", "stan"), ("user.deactivate", "olivia"), ("user.reactivate", "olivia"),
    ]
