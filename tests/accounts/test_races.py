"""Two people creating the same thing at the same moment: a form error, never a 500, nothing half-made.

Real threads, each on its own database connection, through real URLs. On PostgreSQL
the check-then-insert of a unique name races for real; SQLite (its test database is
a file) takes the write lock up front, and these still hold there.
"""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Project, Role, User
from audit.models import AuditEntry
from tests.accounts.conftest import link_in_mail, query_value
from tests.concurrency import run_together
from tests.conftest import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 8


def test_simultaneous_sign_ups_with_one_username_give_one_account_and_form_errors():
    tokens = []
    for i in range(RACERS):
        Client().post(reverse("accounts:signup"), {"username": "nina", "email": f"nina{i}@example.com"},
                      REMOTE_ADDR=f"203.0.113.{i}")
        tokens.append(query_value(link_in_mail("/accounts/signup/", mail.outbox[i]), "token"))
    clients = [Client() for _ in range(RACERS)]

    def finish(i):
        response = clients[i].post(reverse("accounts:signup"), {
            "token": tokens[i], "username": "nina", "password1": PASSWORD, "password2": PASSWORD})
        return response.status_code, response.content.decode()

    results = run_together(finish, RACERS)
    assert not [r for r in results if isinstance(r, Exception)], results
    codes = sorted(code for code, _ in results)
    assert codes == [302] + [400] * (RACERS - 1), codes
    assert all("That username is taken" in html for code, html in results if code == 400)
    user = User.objects.get(username__iexact="nina")
    assert User.objects.count() == 1
    # Nothing half-made: one personal project, its owner, its audit entries.
    assert Project.objects.count() == 1
    assert Membership.objects.get().user == user
    assert AuditEntry.objects.filter(action="user.create").count() == 1


def test_simultaneous_team_projects_with_one_name_are_all_made_whole():
    owner = make_user("olivia")
    clients = [client_for(owner) for _ in range(RACERS)]

    def create(i):
        response = clients[i].post(reverse("project_list"), {"name": "Reel"})
        return response.status_code

    results = run_together(create, RACERS)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert set(results) <= {302, 400}, results
    made = Project.objects.filter(name="Reel")
    assert made.count() == results.count(302)
    assert len({p.slug for p in made}) == made.count()
    for project in made:
        assert list(project.memberships.values_list("user", "role")) == [(owner.pk, Role.OWNER)]
    assert AuditEntry.objects.filter(action="project.create", object_id__in=[str(p.pk) for p in made]).count() \
        == made.count()
    assert results.count(302) == RACERS  # the same name is allowed: each gets its own address
