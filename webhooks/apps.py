from django.apps import AppConfig

from . import checks  # noqa: F401 — registers the deploy check


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
