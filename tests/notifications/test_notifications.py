"""Notifications: written once per event when work ends (even when the writing step died), listed,
read, and sent as an email digest to those who asked."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from credits import ledger
from generations import cancel, notices, submit, variations
from generations.models import Status
from notifications.models import Event, Notification, Preference
from notifications.record import send_digests
from tests.conftest import client_for
from tests.factories import drive

pytestmark = pytest.mark.django_db

IMAGE = {"endpoint": "text_to_image", "model": "gen4_image"}
PARAMS = {"prompt_text": "A heron at dawn", "ratio": "1920:1080"}


@pytest.fixture
def funded(owner):
    ledger.grant(user=owner, amount=10_000, note="test credits")
    return owner


def _one(project, user, **params):
    return drive(submit.submit_generation(project=project, user=user, params={**PARAMS, **params}, **IMAGE))


def test_a_finished_generation_tells_its_author_once(runway_emulator, project, funded, owner_client):
    done = _one(project, funded)
    assert done.status == Status.SUCCEEDED
    (note,) = Notification.objects.filter(user=funded)
    assert (note.event, note.subject_id, note.project) == (Event.SUCCEEDED, done.pk, project)
    assert "is done" in note.text and note.url == done.get_absolute_url()
    assert notices.sweep() == 0  # nothing left to write
    assert Notification.objects.count() == 1


def test_a_failure_tells_what_went_wrong_and_a_cancel_tells_nothing(runway_emulator, project, funded):
    runway_emulator.inject_fault(task={"fail_code": "INTERNAL.BAD_OUTPUT.CODE01", "model": "gen4_image"})
    failed = _one(project, funded)
    assert failed.status == Status.FAILED
    note = Notification.objects.get(subject_id=failed.pk)
    assert note.event == Event.FAILED and failed.failure_message in note.text
    queued = submit.submit_generation(project=project, user=funded, params=PARAMS, **IMAGE)
    assert cancel.cancel_generation(generation=queued)
    assert not Notification.objects.filter(subject_id=queued.pk).exists()


def test_a_note_a_crash_kept_from_being_written_is_written_by_the_sweep_once(runway_emulator, project, funded):
    done = _one(project, funded)
    Notification.objects.all().delete()  # the step that ended it died before its note was written
    assert notices.sweep() == 1 and notices.sweep() == 0
    assert Notification.objects.filter(subject_id=done.pk, user=funded).count() == 1


def test_variations_tell_once_when_the_last_of_the_group_ends(runway_emulator, project, funded):
    group = variations.submit_variations(project=project, user=funded, params=PARAMS, seeds=3, **IMAGE)
    made = list(group.generations.order_by("pk"))
    drive(made[0])
    assert not Notification.objects.exists()  # two still running
    for g in made[1:]:
        drive(g)
    (note,) = Notification.objects.all()
    assert (note.event, note.subject_id) == (Event.GROUP_FINISHED, group.pk)
    assert note.text == "3 variations finished: 3 done"
    assert notices.sweep() == 0


def test_the_list_reads_and_opens_only_ones_own(runway_emulator, project, funded, owner_client, editor):
    done = _one(project, funded)
    page = owner_client.get(reverse("notifications:list"))
    assert page.status_code == 200 and "1 unread" in page.content.decode()
    assert owner_client.get(reverse("notifications:unread")).json()["unread"] == 1
    note = Notification.objects.get()
    assert client_for(editor).get(reverse("notifications:open", args=[note.pk])).status_code == 404
    opened = owner_client.get(reverse("notifications:open", args=[note.pk]))
    assert opened.status_code == 302 and opened["Location"] == done.get_absolute_url()
    note.refresh_from_db()
    assert note.read_at is not None
    assert "Nothing unread" in owner_client.get(reverse("notifications:list")).content.decode()
    assert client_for(None).get(reverse("notifications:list")).status_code == 302  # to sign in


def test_the_digest_goes_to_those_who_asked_once_per_notification(runway_emulator, project, funded, owner_client,
                                                                  editor):
    _one(project, funded)
    assert send_digests() == 0  # nobody asked
    owner_client.post(reverse("notifications:preferences"), {"email_digest": "on"})
    assert Preference.objects.get(user=funded).email_digest
    assert send_digests() == 1 and len(mail.outbox) == 1
    assert "is done" in mail.outbox[0].body and mail.outbox[0].to == [funded.email]
    assert send_digests() == 0 and len(mail.outbox) == 1  # not twice
    _one(project, funded, prompt_text="A second heron")
    assert send_digests() == 1 and len(mail.outbox) == 2
    assert "second heron" in mail.outbox[1].body and mail.outbox[1].body.count("is done") == 1


def test_browser_notifications_are_offered_to_those_who_asked_with_what_a_page_needs(runway_emulator, project,
                                                                                     funded, owner_client, editor):
    home = project.get_absolute_url()
    assert "data-notices=" not in owner_client.get(home).content.decode()  # not asked for: no asking
    owner_client.post(reverse("notifications:preferences"), {"browser": "on"})
    assert Preference.objects.get(user=funded).browser
    page = owner_client.get(home).content.decode()
    assert f'data-notices="{reverse("notifications:unread")}"' in page and 'data-notices-every="30"' in page
    empty = owner_client.get(reverse("notifications:unread")).json()
    assert empty == {"unread": 0, "newest": 0, "latest": []}
    done = _one(project, funded)
    note = Notification.objects.get(subject_id=done.pk)
    told = owner_client.get(reverse("notifications:unread")).json()
    assert told["newest"] == note.pk and told["latest"] == [
        {"id": note.pk, "text": note.text, "url": reverse("notifications:open", args=[note.pk])}]
    owner_client.post(reverse("notifications:read"))
    read = owner_client.get(reverse("notifications:unread")).json()
    assert (read["unread"], read["newest"], read["latest"]) == (0, note.pk, [])  # the mark stays where it was
    assert client_for(editor).get(reverse("notifications:unread")).json()["newest"] == 0  # one's own only
