"""The ops console lists endpoints, events and deliveries, read-only, without the signing secrets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import client_for, make_user
from webhooks import delivery
from webhooks.actions import create_endpoint, send_test_event
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_ops_browse_webhooks_and_never_see_a_secret(project, owner, receiver):
    endpoint = receiver.expect(create_endpoint(project=project, by=owner, url=receiver.url(),
                                               events=["generation.succeeded"]))
    event = send_test_event(endpoint=endpoint, by=owner)
    delivery.deliver_event(event_pk=event.pk)
    row = Delivery.objects.get()
    ops = client_for(make_user("root", is_staff=True, is_superuser=True))
    pages = [reverse("admin:webhooks_endpoint_changelist"), reverse("admin:webhooks_event_changelist"),
             reverse("admin:webhooks_delivery_changelist"),
             reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
             reverse("admin:webhooks_event_change", args=[event.pk]),
             reverse("admin:webhooks_delivery_change", args=[row.pk])]
    for page in pages:
        response = ops.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        assert endpoint.secret not in text and endpoint.secret_salt not in text
    assert event.event_id in ops.get(reverse("admin:webhooks_delivery_changelist")).content.decode()
    # Read-only: no adding, no deleting from the console.
    assert ops.get(reverse("admin:webhooks_endpoint_add")).status_code == 403
    assert ops.post(reverse("admin:webhooks_endpoint_delete", args=[endpoint.pk]), {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=row.pk).exists()
