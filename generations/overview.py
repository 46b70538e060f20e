"""What a project's overview page shows: work in progress, recent outputs, quick starts."""

from assets.models import Asset
from generations.models import Generation, Output
from runway.catalog import ENDPOINTS


def overview(project) -> dict:
    """Counts and recent items of one project, in a fixed number of queries."""
    generations = Generation.objects.in_project(project)
    return {
        "in_flight": list(generations.in_flight().select_related("created_by").order_by("-created_at")[:5]),
        "in_flight_count": generations.in_flight().count(),
        "recent_outputs": list(
            Output.objects.in_project(project).select_related("generation").order_by("-created_at", "-id")[:8]
        ),
        "output_count": Output.objects.in_project(project).count(),
        "asset_count": Asset.objects.in_project(project).count(),
        "endpoints": list(ENDPOINTS.values()),
    }
