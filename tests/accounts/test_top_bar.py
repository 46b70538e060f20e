"""The top bar on every signed-in page: the person's balance, create actions by role, signing out."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credits import ledger
from credits.models import Account

pytestmark = pytest.mark.django_db

BALANCE = re.compile(r'<a class="balance" href="/credits/"[^>]*><span class="balance-figure">([\d,]+)</span> credits</a>')


def balance_in_top_bar(html: str) -> str | None:
    header = html.split("<header", 1)[1].split("</header>", 1)[0] if "<header" in html else ""
    found = BALANCE.search(header)
    return found.group(1) if found else None


@pytest.mark.parametrize("url", ["projects:members", "generations:home", "gallery:index", "assets:list"])
def test_the_balance_is_in_the_top_bar_of_project_pages(url, project, editor, editor_client, settings):
    ledger.grant_starting_credits(user=editor)
    page = editor_client.get(reverse(url, args=[project.slug]))
    assert page.status_code == 200
    assert balance_in_top_bar(page.content.decode()) == f"{settings.STARTING_CREDITS:,}"


def test_the_balance_is_in_the_top_bar_off_projects_too(editor, editor_client):
    account = ledger.account_for(editor)
    Account.objects.filter(pk=account.pk).update(balance=12345)
    for url in (reverse("project_list"), reverse("accounts:profile"), reverse("credits:mine")):
        assert balance_in_top_bar(editor_client.get(url).content.decode()) == "12,345", url


def test_the_balance_costs_one_query_per_page(project, editor, editor_client):
    ledger.account_for(editor)
    url = reverse("projects:members", args=[project.slug])
    with CaptureQueriesContext(connection) as queries:
        assert editor_client.get(url).status_code == 200
    reads = [q["sql"] for q in queries if 'FROM "credits_account"' in q["sql"]]
    assert len(reads) == 1, reads


def test_before_the_account_opens_the_top_bar_shows_the_credits_it_opens_with(editor, editor_client, settings):
    page = editor_client.get(reverse("project_list")).content.decode()
    assert balance_in_top_bar(page) == f"{settings.STARTING_CREDITS:,}"
    assert not Account.objects.filter(user=editor).exists()  # a page view writes nothing
    ledger.account_for(editor)
    assert balance_in_top_bar(editor_client.get(reverse("project_list")).content.decode()) == (
        f"{Account.objects.get(user=editor).balance:,}")


def test_signed_out_pages_show_no_balance(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert 'class="balance"' not in page and "/credits/" not in page


def test_the_project_credits_page_says_it_is_the_projects_budget_and_points_to_ones_own(
        project, owner, owner_client):
    ledger.grant_starting_credits(user=owner)
    page = owner_client.get(reverse("credits:project", args=[project.slug])).content.decode()
    main = page.split("<main", 1)[1]
    assert "Project budget" in main
    assert f'href="{reverse("credits:mine")}"' in main
    assert "Your own balance" in main
    nav = page.split('aria-label="Project"', 1)[1].split("</nav>", 1)[0]
    assert ">Budget<" in nav and ">Credits<" not in nav


# --- create actions by role --------------------------------------------------------------------


def project_nav(html: str) -> str:
    return html.split('aria-label="Project"', 1)[1].split("</nav>", 1)[0]


def test_viewers_are_not_offered_generate(project, viewer_client):
    page = viewer_client.get(reverse("projects:members", args=[project.slug])).content.decode()
    nav = project_nav(page)
    assert "Gallery" in nav
    assert reverse("generations:new", args=[project.slug]) not in page


def test_editors_are_offered_generate(project, editor_client):
    page = editor_client.get(reverse("projects:members", args=[project.slug])).content.decode()
    assert f'href="{reverse("generations:new", args=[project.slug])}"' in project_nav(page)


# --- the project navigation as a menu on small screens ------------------------------------------


def test_the_project_navigation_has_a_menu_button_for_small_screens(project, editor_client):
    page = editor_client.get(reverse("projects:members", args=[project.slug])).content.decode()
    button = re.search(r'<button[^>]*aria-controls="project-nav"[^>]*>', page)
    assert button and 'aria-expanded="false"' in button.group(0)
    assert 'id="project-nav"' in page


# --- signing out ---------------------------------------------------------------------------------


def test_signing_out_says_so(editor_client):
    response = editor_client.post(reverse("accounts:logout"), follow=True)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("accounts:login")
    assert "You are signed out." in response.content.decode()
    assert "_auth_user_id" not in editor_client.session
