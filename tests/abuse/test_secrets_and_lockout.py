"""The Runway key never leaves the server; sign-in lockout holds against rotating attackers."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import ledger
from generations import copy, poll, run, submit
from generations.models import Generation, Status
from tests.conftest import PASSWORD, client_for, make_user
from tests.factories import make_asset

KEY = "key_" + "SeCrEt7" * 18  # a key shaped like Runway's, easy to spot anywhere


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Each test counts from zero: its rate-limit counters live under a cache prefix of its own."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"


@pytest.mark.django_db
def test_runway_key_appears_in_no_page_log_or_row(project, owner, tmp_path, media_root, runway_emulator,
                                                   settings, caplog, chaos_report):
    # The emulator accepts any well-formed key: use ours, as against the real API.
    settings.RUNWAYML_API_SECRET = KEY
    settings.RUNWAY_USES_EMULATOR = True  # its origin stays the allowed output host
    caplog.set_level(logging.DEBUG)
    ledger.grant(user=owner, amount=1000)
    still = make_asset(project, owner, "image 1280x720", tmp_path / "in")
    g = submit.submit_generation(project=project, user=owner, endpoint="image_to_video", model="gen4_turbo",
                                   params={"prompt_image": still.pk, "ratio": "1280:720", "duration": 5})
    failing = submit.submit_generation(project=project, user=owner, endpoint="image_to_video",
                                         model="gen4_turbo", params={"prompt_image": still.pk, "ratio": "1280:720",
                                                                     "prompt_text": "[fail]"})
    for item in (g, failing):
        run.run_generation(generation_id=item.pk)
    for _ in range(3):
        poll.sweep_once(now=timezone.now() + timezone.timedelta(minutes=10))
        copy.copy_outputs(generation_id=g.pk)
    g.refresh_from_db()
    assert g.status == Status.SUCCEEDED

    owner.is_staff = owner.is_superuser = True
    owner.save()
    client = client_for(owner)
    pages = [
        reverse("generations:detail", args=[project.slug, g.pk]),
        reverse("generations:detail", args=[project.slug, failing.pk]),
        reverse("generations:queue", args=[project.slug]),
        reverse("assets:list", args=[project.slug]),
        reverse("gallery:index", args=[project.slug]),
        reverse("gallery:output", args=[project.slug, g.outputs.get().pk]),
        reverse("credits:staff"),
        reverse("admin:generations_generation_change", args=[g.pk]),
        reverse("admin:generations_generation_changelist"),
        reverse("admin:django_q_success_changelist"),
    ]
    leaks = []
    for url in pages:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            assert response.status_code in (200, 286), url  # 286: a finished card stops polling
            if KEY.encode() in response.content or KEY[-20:].encode() in response.content:
                leaks.append(url)
    for row in Generation.objects.all():
        for name in ("params", "request_payload", "create_response", "task_json", "failure_message",
                     "runway_failure", "attention_reason"):
            if KEY in str(getattr(row, name)):
                leaks.append(f"generation {row.pk}.{name}")
    from django_q.models import OrmQ, Task

    for row in list(Task.objects.all()) + list(OrmQ.objects.all()):
        if KEY in repr(row.__dict__):
            leaks.append(f"task row {row.pk}")
    if KEY in caplog.text or KEY[-20:] in caplog.text:
        leaks.append("logs")
    chaos_report.add("bad_inputs_tried", len(pages) * 2)
    chaos_report.add("lost_items", len(leaks))
    assert not leaks


@pytest.mark.django_db
def test_lockout_holds_for_the_target_while_attackers_rotate(client, settings, chaos_report):
    make_user("nina")
    login = reverse("accounts:login")
    # Noise: other usernames from other addresses, to push the target's failures out of view.
    for i in range(30):
        client.post(login, {"username": f"user{i}", "password": "guess"}, REMOTE_ADDR=f"10.0.{i}.9")
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": "nina", "password": f"guess-{i}"}, REMOTE_ADDR="203.0.113.7")
        # Between guesses, a spray over rotating usernames from the same address…
        client.post(login, {"username": f"other{i}", "password": "guess"}, REMOTE_ADDR="203.0.113.7")
    chaos_report.add("bad_inputs_tried", 30 + 2 * settings.AXES_FAILURE_LIMIT)
    # …does not reset the count: the right password from that address is refused,
    locked = client.post(login, {"username": "nina", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    for spelling in ("NINA", " nina", "nina "):
        again = client.post(login, {"username": spelling, "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
        assert again.status_code in (200, 429)
        assert "_auth_user_id" not in client.session
    # and nobody was signed in along the way.
    assert client.get(reverse("project_list"), REMOTE_ADDR="203.0.113.7").status_code == 302


@pytest.mark.django_db
def test_one_address_cannot_spray_passwords_across_accounts(client, settings, chaos_report):
    login = reverse("accounts:login")
    names = [f"target{i}" for i in range(8)]
    for name in names + ["bystander"]:
        make_user(name)
    answers = []
    # Fewer guesses per account than the lockout allows, against account after account.
    for name in names:
        for guess in range(settings.AXES_FAILURE_LIMIT - 1):
            answers.append(client.post(login, {"username": name, "password": f"guess-{guess}"},
                                       REMOTE_ADDR="203.0.113.9").status_code)
    chaos_report.add("bad_inputs_tried", len(answers))
    assert 429 in answers
    refused = answers.index(429)
    assert set(answers[refused:]) == {429}  # once refused, every further guess is refused
    # Even the right password, for an account it never tried, from that address…
    again = client.post(login, {"username": "bystander", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    # …while the people sprayed at still sign in from their own addresses.
    for name in (names[0], "bystander"):
        own = client_for(None)
        ok = own.post(login, {"username": name, "password": PASSWORD}, REMOTE_ADDR="198.51.100.20")
        assert ok.status_code == 302, name


@pytest.mark.django_db
def test_behind_the_proxy_one_person_cannot_lock_everyone_out(client, settings, chaos_report):
    settings.TRUSTED_PROXY_COUNT = 1  # the README's reverse proxy, which appends the address it saw
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    make_user("nina")
    login = reverse("accounts:login")
    for i in range(settings.AXES_FAILURE_LIMIT + 2):
        # Whatever the attacker writes into X-Forwarded-For comes before what the proxy appends.
        client.post(login, {"username": "nina", "password": f"guess-{i}"}, **proxy,
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 198.51.100.66")
    chaos_report.add("bad_inputs_tried", settings.AXES_FAILURE_LIMIT + 2)
    locked = client.post(login, {"username": "nina", "password": PASSWORD}, **proxy,
                         HTTP_X_FORWARDED_FOR="192.0.2.200, 198.51.100.66")
    assert locked.status_code == 429  # the attacker is locked out of nina, however they dress up
    nina = client_for(None)
    response = nina.post(login, {"username": "nina", "password": PASSWORD}, **proxy,
                         HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302  # nina, behind the same proxy, signs in
