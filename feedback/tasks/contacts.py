"""Background work on contacts: the CSV import."""

from __future__ import annotations

from celery import shared_task

from feedback.services import imports


@shared_task(ignore_result=True)
def contact_import_run(import_id: int) -> None:
    """Import an uploaded CSV file. Safe to run twice: see services.imports.import_run."""
    imports.import_run(import_id=import_id)


@shared_task(ignore_result=True)
def contact_import_sweep() -> None:
    """Re-enqueue imports whose message was lost or whose worker died (beat, every few
    minutes). A repeated run resumes after the last committed batch."""
    for import_id in imports.imports_stalled():
        contact_import_run.delay(import_id)
