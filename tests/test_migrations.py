"""Data survives the move of models between apps: a database at the layout before it, migrated forward.

The database is brought to the migrations of the commit before the restructure
(assets, tags, share links inside `generations`, the audit log inside `ops`),
filled through the models as those migrations define them, with real files in
storage; then every migration since runs, and the rows, relations, permissions,
schedules and files are read back through today's models.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import Invitation, Membership, Project, User
from assets.models import Asset
from audit.models import AuditEntry
from credits.models import Account, Hold, LedgerEntry
from gallery.models import ShareLink, Tag
from generations.models import Generation, Output

pytestmark = pytest.mark.django_db(transaction=True)

# The last migration of each app before the restructure; the new apps did not exist (nor did
# the library, which came later and builds on the restructured apps).
BEFORE = [("accounts", "0001_initial"), ("generations", "0004_gallery_indexes"), ("credits", "0002_schedules"),
          ("ops", "0001_initial"), ("audit", None), ("assets", None), ("gallery", None), ("library", None),
          ("notifications", None), ("presets", None), ("webhooks", None), ("api", None)]
MOVED_APPS = {"accounts", "generations", "credits", "ops", "audit", "assets", "gallery", "library", "notifications",
              "presets", "webhooks", "api"}

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def old_apps(executor: MigrationExecutor):
    """The model registry as the BEFORE migrations define it (other apps at their latest)."""
    graph = executor.loader.graph
    targets = [node for node in BEFORE if node[1] is not None]
    targets += [leaf for leaf in graph.leaf_nodes() if leaf[0] not in MOVED_APPS]
    return executor.loader.project_state(targets).apps


def store(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


def build_old_database(apps) -> dict:
    """Rows of every moved model (and what points at them), made the way the old code made them."""
    get = apps.get_model
    user = get("accounts", "User").objects.create(username="olga", email="olga@example.com", password="x")
    project = get("accounts", "Project").objects.create(name="Old times", slug="old-times", created_by=user)
    get("accounts", "Membership").objects.create(project=project, user=user, role="owner")
    invitation = get("accounts", "Invitation").objects.create(
        project=project, email="new@example.com", role="editor", token_hash="h" * 64, invited_by=user,
        expires_at=timezone.now() + timedelta(days=7))
    asset_file, thumb_file = store("assets/1/still.png", PNG), store("thumbs/1/still.jpg", b"\xff\xd8thumb")
    asset = get("generations", "Asset").objects.create(
        project=project, uploaded_by=user, file=asset_file, thumbnail=thumb_file, name="still.png", kind="image",
        content_type="image/png", size=len(PNG), width=1, height=1, sha256=hashlib.sha256(PNG).hexdigest(),
        runway_uri="runway://uploads/old")
    generation = get("generations", "Generation").objects.create(
        project=project, created_by=user, endpoint="image_to_video", model="gen4_turbo", status="SUCCEEDED",
        params={"prompt_image": asset.pk}, prompt="a harbour at dawn", estimated_credits=25, cost_credits=25,
        runway_task_id="0b1e7c4e-8a47-4f5e-9d55-0d3b1f6f3c11")
    generation.inputs.add(asset)
    output_file = store("outputs/1/1/0.png", PNG * 3)
    output = get("generations", "Output").objects.create(
        project=project, generation=generation, index=0, file=output_file, thumbnail=thumb_file, kind="image",
        content_type="image/png", size=len(PNG) * 3, sha256="b" * 64, is_favourite=True)
    reused = get("generations", "Asset").objects.create(
        project=project, uploaded_by=user, file=store("assets/1/reused.png", PNG), name="reused.png",
        kind="image", content_type="image/png", size=len(PNG), sha256="c" * 64, source_output=output)
    tag = get("generations", "Tag").objects.create(project=project, name="keeper")
    output.tags.add(tag)
    link = get("generations", "ShareLink").objects.create(output=output, token="t" * 43, created_by=user)
    entry = get("ops", "AuditEntry").objects.create(
        actor=user, action="generation.cancel", object_type="generations.generation",
        object_id=str(generation.pk), object_repr="old", before={"status": "RUNNING"}, after={"status": "X"})
    account = get("credits", "Account").objects.create(user=user, balance=75)
    hold = get("credits", "Hold").objects.create(account=account, generation=generation, amount=25,
                                                 state="settled", charged=25)
    charge = get("credits", "LedgerEntry").objects.create(
        account=account, kind="settle", amount=0, held_delta=-25, credits=25, generation=generation,
        model="gen4_turbo")
    # Permissions on the moved models, granted to a group as ops would have.
    content_type = get("contenttypes", "ContentType").objects
    permission = get("auth", "Permission").objects
    granted = [
        permission.get_or_create(codename=codename, content_type=content_type.get_or_create(
            app_label=app, model=model)[0], defaults={"name": codename})[0]
        for app, model, codename in [("generations", "asset", "view_asset"), ("generations", "tag", "change_tag"),
                                     ("generations", "sharelink", "view_sharelink"),
                                     ("ops", "auditentry", "view_auditentry")]
    ]
    group = get("auth", "Group").objects.create(name="ops")
    group.permissions.set(granted)
    return {"user": user.pk, "project": project.pk, "invitation": invitation.pk, "asset": asset.pk,
            "reused": reused.pk, "generation": generation.pk, "output": output.pk, "tag": tag.pk, "link": link.pk,
            "entry": entry.pk, "account": account.pk, "hold": hold.pk, "charge": charge.pk,
            "files": {asset_file: PNG, thumb_file: b"\xff\xd8thumb", output_file: PNG * 3}}


def test_rows_relations_permissions_and_files_survive_the_move_between_apps(media_root):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        executor = MigrationExecutor(connection)
        ids = build_old_database(old_apps(executor))
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    user = User.objects.get(pk=ids["user"])
    project = Project.objects.get(pk=ids["project"], slug="old-times")
    assert Membership.objects.get(project=project, user=user).role == "owner"
    assert Invitation.objects.get(pk=ids["invitation"]).email == "new@example.com"

    asset = Asset.objects.get(pk=ids["asset"])
    assert (asset.project, asset.name, asset.runway_uri, asset.width) == (project, "still.png",
                                                                          "runway://uploads/old", 1)
    generation = Generation.objects.get(pk=ids["generation"])
    assert list(generation.inputs.all()) == [asset] and list(asset.used_by.all()) == [generation]
    output = Output.objects.get(pk=ids["output"])
    assert output.generation == generation and output.is_favourite
    assert Asset.objects.get(pk=ids["reused"]).source_output == output
    assert list(output.reused_as.values_list("pk", flat=True)) == [ids["reused"]]
    tag = Tag.objects.get(pk=ids["tag"])
    assert list(output.tags.all()) == [tag] and list(tag.outputs.all()) == [output]
    link = ShareLink.objects.get(pk=ids["link"])
    assert (link.output, link.token, link.is_active) == (output, "t" * 43, True)

    entry = AuditEntry.objects.get(pk=ids["entry"])
    assert (entry.actor, entry.action, entry.before) == (user, "generation.cancel", {"status": "RUNNING"})
    assert Hold.objects.get(pk=ids["hold"]).generation == generation
    assert LedgerEntry.objects.get(pk=ids["charge"]).generation == generation
    assert Account.objects.get(pk=ids["account"]).balance == 75

    # Permissions follow their models to the new apps.
    granted = set(Group.objects.get(name="ops").permissions.values_list("content_type__app_label", "codename"))
    assert granted == {("assets", "view_asset"), ("gallery", "change_tag"), ("gallery", "view_sharelink"),
                       ("audit", "view_auditentry")}
    user.groups.add(Group.objects.get(name="ops"))
    user = User.objects.get(pk=user.pk)
    assert user.has_perm("assets.view_asset") and user.has_perm("audit.view_auditentry")
    assert not Permission.objects.filter(content_type__app_label__in=["ops"]).exists()

    # The hold clean-up moved with its task; nothing points at a task that no longer exists.
    schedules = dict(Schedule.objects.values_list("name", "func"))
    assert schedules.get("generations-close-finished-holds") == "generations.tasks.close_finished_holds"
    assert "credits-close-finished-holds" not in schedules

    for name, content in ids["files"].items():
        with default_storage.open(name, "rb") as handle:
            assert handle.read() == content, name
    assert asset.file.name in ids["files"] and output.file.name in ids["files"]
