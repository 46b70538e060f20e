"""The database or the queue out of reach: a 503 page with Retry-After, never a bare 500, nothing half-written.

The database is made unreachable for real: the connection is closed and its settings pointed
at a place no database answers (a closed port on PostgreSQL, a path in a missing folder on
SQLite), then restored. A failure in the middle of a request is the database dropping the
connection at one statement: on PostgreSQL its backend is really terminated from a second
connection; SQLite has no such thing, so there the driver's error is raised at that statement
(`connection.execute_wrapper`, Django's hook at the database boundary; nothing of ours is replaced).
The cache (sessions, rate limits) out of reach is a Redis URL on a closed port.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

from assets.models import Asset
from credits import ledger
from credits.models import Hold, LedgerEntry
from generations.models import Generation
from runway import catalog
from tests.factories import make_asset, media_file
from tests.generations.catalog_cases import valid_params
from tests.generations.gen_helpers import form_data

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT = 1


def client_for(user) -> Client:
    # The test client re-raises whatever reached Django's 500 handler; a person would get the
    # page, so these tests read the page.
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@contextmanager
def database_unreachable(tmp_path):
    """Point the default connection at a database that isn't there, and back afterwards."""
    settings_dict = connection.settings_dict
    saved = dict(settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "no-such-folder" / "takes.sqlite3")
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=str(CLOSED_PORT))
    try:
        yield
    finally:
        connection.close()
        settings_dict.clear()
        settings_dict.update(saved)


@contextmanager
def database_dies_at(statement: str):
    """The database connection drops when the request reaches a statement starting with `statement`."""
    died = []

    def drop(execute, sql, params, many, context):
        if died or not sql.startswith(statement):
            return execute(sql, params, many, context)
        died.append(sql)
        if connection.vendor == "postgresql":
            pid = connection.connection.info.backend_pid
            killer = connections.create_connection("default")
            try:
                with killer.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            finally:
                killer.close()
            return execute(sql, params, many, context)  # meets the terminated connection
        raise OperationalError("disk I/O error")

    with connection.execute_wrapper(drop):
        yield died
    assert died, f"the request never reached {statement}"


def assert_maintenance_page(response):
    assert response.status_code == 503, response.status_code
    assert int(response["Retry-After"]) == 30
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Takes is briefly unavailable" in html
    assert "try again" in html
    return html


# --- the database out of reach from the start ------------------------------------------------


def test_a_page_with_the_database_unreachable_is_the_maintenance_page(project, editor, tmp_path):
    client = client_for(editor)
    with database_unreachable(tmp_path):
        response = client.get(reverse("generations:home", args=[project.slug]))
    html = assert_maintenance_page(response)
    assert html.lstrip().startswith("<!doctype html>")
    assert "Moonshot" not in html  # nothing read from the database: no navigation, no project


def test_an_htmx_request_with_the_database_unreachable_gets_the_fragment(project, editor, tmp_path):
    client = client_for(editor)
    with database_unreachable(tmp_path):
        response = client.get(reverse("generations:queue", args=[project.slug]), HTTP_HX_REQUEST="true")
    html = assert_maintenance_page(response)
    assert html.lstrip().startswith('<div id="unavailable"')
    assert "<html" not in html


def test_an_anonymous_share_page_with_the_database_unreachable_is_the_maintenance_page(tmp_path):
    with database_unreachable(tmp_path):
        response = client_for(None).get(reverse("share", args=["some-token"]))
    assert_maintenance_page(response)


def test_an_upload_with_the_database_unreachable_stores_nothing(project, editor, tmp_path, media_root):
    client = client_for(editor)
    path = media_file(tmp_path / "in", "image 640x360")
    with database_unreachable(tmp_path), path.open("rb") as fp:
        response = client.post(reverse("assets:list", args=[project.slug]), {"file": fp})
    assert_maintenance_page(response)
    assert not Asset.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


# --- the database going away in the middle of a request --------------------------------------


def submit_data(asset) -> dict:
    model = catalog.get_endpoint("image_to_video").default_model
    return {"endpoint": "image_to_video", "model": model.id,
            **form_data(model, valid_params(model), lambda spec: asset)}


def test_a_submission_the_database_drops_halfway_is_rolled_back_whole(project, editor, tmp_path, media_root):
    ledger.grant(user=editor, amount=10_000, note="test credits")
    asset = make_asset(project, editor, "image 1280x720", tmp_path / "in")
    balance = ledger.account_for(editor).balance
    entries = LedgerEntry.objects.count()
    client = client_for(editor)
    # The ledger entry of the hold: the generation, its inputs and the hold are written by then.
    with database_dies_at('INSERT INTO "credits_ledgerentry"'):
        response = client.post(reverse("generations:new", args=[project.slug]), submit_data(asset))
    assert_maintenance_page(response)
    assert not Generation.objects.exists()
    assert not Hold.objects.exists()
    assert LedgerEntry.objects.count() == entries
    assert ledger.account_for(editor).balance == balance
    assert not OrmQ.objects.exists()
    assert Asset.objects.filter(pk=asset.pk).exists()  # nothing already saved is lost


def test_an_upload_the_database_drops_halfway_leaves_no_row_and_no_file(project, editor, tmp_path, media_root):
    client = client_for(editor)
    path = media_file(tmp_path / "in", "image 640x360")
    with database_dies_at('INSERT INTO "generations_asset"'), path.open("rb") as fp:
        response = client.post(reverse("assets:list", args=[project.slug]), {"file": fp})
    assert_maintenance_page(response)
    assert not Asset.objects.exists()
    assert not [p for p in media_root.rglob("*") if p.is_file()]


# --- the cache out of reach -----------------------------------------------------------------


REDIS_ON_A_CLOSED_PORT = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                      "LOCATION": f"redis://127.0.0.1:{CLOSED_PORT}/0"}}


def test_a_submission_with_the_cache_unreachable_is_the_maintenance_page(project, editor, tmp_path,
                                                                         media_root, settings):
    ledger.grant(user=editor, amount=10_000, note="test credits")
    asset = make_asset(project, editor, "image 1280x720", tmp_path / "in")
    entries = LedgerEntry.objects.count()
    client = client_for(editor)
    settings.CACHES = REDIS_ON_A_CLOSED_PORT  # sessions are read from the cache first
    response = client.post(reverse("generations:new", args=[project.slug]), submit_data(asset))
    assert_maintenance_page(response)
    assert not Generation.objects.exists()
    assert LedgerEntry.objects.count() == entries
    assert not OrmQ.objects.exists()
