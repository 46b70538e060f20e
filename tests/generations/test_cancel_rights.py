"""Who may cancel a generation: the person who started it, or a project owner — and the log says who did."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership
from audit.models import AuditEntry
from credits import ledger
from credits.models import Hold, HoldState
from generations import submit as submitting
from generations.models import Generation, Status
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_editor(project):
    person = make_user("erin")
    Membership.objects.create(project=project, user=person, role="editor")
    return person


@pytest.fixture
def queued(project, editor):
    """A generation the editor started, waiting for its worker, credits held on the editor."""
    ledger.grant(user=editor, amount=1000)
    return submitting.submit_generation(project=project, user=editor, endpoint="text_to_image", model="gen4_image",
                                        params={"prompt_text": "a lighthouse", "ratio": "1920:1080"})


def cancel_url(generation) -> str:
    return reverse("generations:cancel", args=[generation.project.slug, generation.pk])


def detail_url(generation) -> str:
    return reverse("generations:detail", args=[generation.project.slug, generation.pk])


def test_another_editor_may_not_cancel_someone_elses_generation(queued, other_editor):
    client = client_for(other_editor)
    response = client.post(cancel_url(queued))
    assert response.status_code == 403
    assert "Only the person who started this generation" in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED
    assert Hold.objects.get(generation=queued).state == HoldState.OPEN
    assert not AuditEntry.objects.filter(action="generation.cancel").exists()
    assert "Cancel generation" not in client.get(detail_url(queued)).content.decode()


def test_an_owner_may_cancel_it_the_charge_stays_with_the_creator_and_the_log_names_the_owner(
        queued, owner, editor):
    assert "Cancel generation" in client_for(owner).get(detail_url(queued)).content.decode()
    response = client_for(owner).post(cancel_url(queued))
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED
    hold = Hold.objects.get(generation=queued)
    assert hold.account.user == editor and hold.state == HoldState.RELEASED
    entry = AuditEntry.objects.get(action="generation.cancel")
    assert entry.actor == owner and entry.object_id == str(queued.pk)
    assert entry.before == {"status": "QUEUED"} and entry.after == {"status": "CANCELLED"}
    assert "eddie" in entry.note


def test_the_creator_may_cancel_their_own(queued, editor):
    client = client_for(editor)
    assert "Cancel generation" in client.get(detail_url(queued)).content.decode()
    assert client.post(cancel_url(queued), headers={"HX-Request": "true"}).status_code == 200
    assert Generation.objects.get(pk=queued.pk).status == Status.CANCELLED
    assert AuditEntry.objects.get(action="generation.cancel").actor == editor
