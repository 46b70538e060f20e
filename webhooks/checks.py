"""A deploy check: webhooks may reach this machine only where nobody else can add an endpoint."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def loopback_webhooks(app_configs, **kwargs):
    """`manage.py check --deploy` warns while WEBHOOKS_ALLOW_LOOPBACK is on."""
    if not settings.WEBHOOKS_ALLOW_LOOPBACK:
        return []
    return [Warning("WEBHOOKS_ALLOW_LOOPBACK is on: any project owner can make Takes post to services on "
                    "this machine.", hint="Unset WEBHOOKS_ALLOW_LOOPBACK in production.", id="webhooks.W001")]
