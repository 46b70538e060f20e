"""django-q2 entry points: thin, take ids, call the workflow."""

from generations import pipeline


def run_generation(generation_id: int) -> None:
    """Upload inputs and submit one generation."""
    pipeline.run_generation(generation_id=generation_id)


def copy_outputs(generation_id: int) -> None:
    """Copy a finished generation's outputs into our storage."""
    pipeline.copy_outputs(generation_id=generation_id)


def poll_sweep() -> None:
    """Poll every in-flight generation until none is left (re-arms itself)."""
    pipeline.run_sweep()


def watchdog() -> None:
    """Scheduled every minute: restart the sweep if it died while work remains."""
    if pipeline.work_remains() or pipeline.resume_stalled()[0]:
        pipeline.ensure_sweep()
