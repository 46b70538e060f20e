import pytest

from credits import ledger


@pytest.fixture
def funded(owner):
    ledger.grant(user=owner, amount=10_000, note="test credits")
    return owner
