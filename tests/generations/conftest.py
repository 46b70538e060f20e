"""Fixtures the pipeline tests share: a person with credits, and a real image asset."""

import pytest

from credits import ledger
from tests.factories import make_asset


@pytest.fixture
def funded(owner):
    ledger.grant(user=owner, amount=10_000, note="test credits")
    return owner


@pytest.fixture
def image(project, owner, tmp_path, media_root):
    return make_asset(project, owner, "image 1280x720", tmp_path / "in")
