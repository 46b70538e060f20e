"""Ops personas (superuser, operator, plain staff) and generations driven through the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from credits import ledger
from generations import submit as submitting
from generations.models import Generation, Status
from tests.conftest import client_for, make_user
from tests.factories import drive, make_asset

LATER = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def no_starting_credits(settings):
    settings.STARTING_CREDITS = 0


@pytest.fixture
def superuser(db):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def operator(db):
    """Staff with every permission of the Takes apps, but not a superuser."""
    user = make_user("opal", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["audit", "accounts", "assets", "generations", "gallery", "credits", "ops", "django_q"]))
    return user


@pytest.fixture
def plain_staff(db):
    """Staff with no permissions at all."""
    return make_user("stella", is_staff=True)


@pytest.fixture
def ops_client(operator):
    return client_for(operator)


@pytest.fixture
def funded(owner):
    ledger.grant(user=owner, amount=10_000, note="test credits")
    return owner


@pytest.fixture
def image(project, owner, tmp_path, media_root):
    return make_asset(project, owner, "image 1280x720", tmp_path / "in")


def submit(project, user, image, **params) -> Generation:
    params = {"prompt_image": image.pk, "ratio": "1280:720", **params}
    return submitting.submit_generation(project=project, user=user, endpoint="image_to_video", model="gen4_turbo",
                                      params=params)




def flagged(project, user, image, control) -> Generation:
    """A generation stuck in SUBMITTING after Runway took the request but the answer was lost."""
    control.inject_fault(path="/v1/image_to_video", count=1, status=500, after=True)
    g = drive(submit(project, user, image))
    assert g.status == Status.SUBMITTING and g.needs_attention
    return g
