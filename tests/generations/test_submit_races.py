"""A submission racing the deletion of its input: a clear 409 or a refused deletion, never a 500, nothing left behind.

Real requests on real connections. Two orders are pinned down: one request is held at the
start of its transaction (Django's `execute_wrapper` hook, at the database boundary, waits
there while the other request runs to its end on its own thread and connection); then both
are released together, round after round, as a person clicking "Delete" while another clicks
"Generate" would. On PostgreSQL these interleave for real; on SQLite (a file, IMMEDIATE
transactions) writers queue, and the pinned orders still hold.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

from assets.models import Asset
from credits import ledger
from credits.models import Hold, LedgerEntry
from generations.models import Generation
from runway import catalog
from tests.concurrency import run_together
from tests.factories import make_asset
from tests.generations.catalog_cases import valid_params
from tests.generations.gen_helpers import form_data

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 10
DELETED_WHILE_SUBMITTING = "That input was deleted while you submitted; choose another."
STILL_IN_USE = "still in progress"


def client_for(user) -> Client:
    # What a person would see: the page, not the exception the test client re-raises.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def submit_data(asset) -> dict:
    model = catalog.get_endpoint("image_to_video").default_model
    return {"endpoint": "image_to_video", "model": model.id,
            **form_data(model, valid_params(model), lambda spec: asset)}


def on_own_thread(work):
    """Run `work` to its end on a thread (and database connection) of its own; its result or exception."""
    result: list = []

    def runner():
        try:
            result.append(work())
        except Exception as exc:  # kept for the assertions
            result.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=runner)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the other request hung"
    return result[0]


@contextmanager
def while_starting_its_transaction(other):
    """Hold this thread's request at the start of its first transaction until `other()` has run to its end."""
    ran: list = []

    def hold(execute, sql, params, many, context):
        # SQLite begins with BEGIN IMMEDIATE; PostgreSQL with the first statement in the atomic block.
        if not ran and (sql.startswith("BEGIN") or connection.in_atomic_block):
            ran.append(on_own_thread(other))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(hold):
        yield ran
    assert ran, "the request never started a transaction"
    close_old_connections()


@pytest.fixture
def scene(project, owner, editor, tmp_path, media_root):
    """An editor with credits who submits, an owner who deletes; the ledger as it was before."""
    ledger.grant(user=editor, amount=100_000, note="test credits")

    class Scene:
        person = editor
        submitter = client_for(editor)
        deleter = client_for(owner)
        entries = LedgerEntry.objects.count()
        balance = ledger.account_for(editor).balance

        @staticmethod
        def asset(i: int = 0) -> Asset:
            return make_asset(project, editor, "image 1280x720", tmp_path / f"in{i}")

        @staticmethod
        def submit(asset):
            return Scene.submitter.post(reverse("generations:new", args=[project.slug]), submit_data(asset))

        @staticmethod
        def delete(asset):
            return Scene.deleter.post(reverse("assets:delete", args=[project.slug, asset.pk]))

    return Scene


def stored(asset) -> bool:
    return asset.file.storage.exists(asset.file.name)


def assert_nothing_left_behind(scene):
    assert not Generation.objects.exists()
    assert not Hold.objects.exists()
    assert LedgerEntry.objects.count() == scene.entries
    assert ledger.account_for(scene.person).balance == scene.balance
    assert not OrmQ.objects.exists()


def test_an_input_deleted_as_the_submission_begins_is_a_409_and_leaves_nothing(scene):
    asset = scene.asset()
    with while_starting_its_transaction(lambda: scene.delete(asset)) as deletion:
        response = scene.submit(asset)
    assert deletion[0].status_code == 302, deletion[0]
    assert response.status_code == 409, response.status_code
    assert DELETED_WHILE_SUBMITTING in response.content.decode()
    assert_nothing_left_behind(scene)
    assert not Asset.objects.filter(pk=asset.pk).exists()
    assert not stored(asset)


def test_a_deletion_that_meets_a_submission_just_made_is_refused_and_the_input_kept(scene):
    asset = scene.asset()
    with while_starting_its_transaction(lambda: scene.submit(asset)) as submission:
        response = scene.delete(asset)
    assert submission[0].status_code == 302, submission[0]
    assert response.status_code == 409
    assert STILL_IN_USE in response.content.decode()
    generation = Generation.objects.get()
    assert list(generation.inputs.all()) == [asset]
    assert Hold.objects.filter(generation=generation).exists()
    assert stored(asset)


def test_submissions_racing_deletions_of_their_input_end_one_way_or_the_other(scene):
    """Released together, round after round: the submission wins or the deletion does, never half of each."""
    assets = [scene.asset(i) for i in range(ROUNDS)]
    outcomes = []
    for asset in assets:
        submitted, deleted = run_together(lambda i, a=asset: (scene.submit, scene.delete)[i](a), 2)
        assert not isinstance(submitted, Exception) and not isinstance(deleted, Exception), (submitted, deleted)
        codes = (submitted.status_code, deleted.status_code)
        made = Generation.objects.filter(inputs=asset).first()
        if codes == (302, 409):  # the submission won: the deletion was refused and the input stays
            assert STILL_IN_USE in deleted.content.decode()
            assert made is not None and list(made.inputs.all()) == [asset]
            assert Hold.objects.filter(generation=made).exists()
            assert stored(asset)
        else:  # the deletion won: the submission was refused with a message and left nothing
            assert codes[1] == 302 and codes[0] in (400, 409), codes
            html = submitted.content.decode()
            assert DELETED_WHILE_SUBMITTING in html or "not in this project" in html or \
                "Select a valid choice" in html, html[:2000]
            assert not Asset.objects.filter(pk=asset.pk).exists()
            assert not stored(asset)
        outcomes.append(codes)
    # Whatever won each round, the ledger holds exactly one hold per generation made.
    made = Generation.objects.count()
    assert made == outcomes.count((302, 409))
    assert Hold.objects.count() == made
    assert LedgerEntry.objects.count() == scene.entries + made
