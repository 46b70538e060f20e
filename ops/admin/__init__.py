"""Every admin page of Takes, registered on the Takes admin site (`ops.site`).

The admin is the ops console: its pages cross apps (a person's page shows their
credits and work in flight), so they live here, on top of every app.
"""

from . import audit, credits, generations, library, people, queue, webhooks  # noqa: F401 — each registers its pages
