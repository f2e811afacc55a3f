from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class IntakeConfig(AppConfig):
    name = "haven.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from haven import outbox

        from . import registry, tasks  # noqa: F401 - registers the periodic tasks
        from .channel import WebChannel
        from .questionnaire import QuestionnaireErrors

        try:
            registry.by_category()  # every questionnaire is checked at start-up
        except QuestionnaireErrors as exc:
            raise ImproperlyConfigured(f"intake questionnaires have mistakes:\n{exc}") from exc
        outbox.register(WebChannel())
        _forget_on_purge()
        _fingerprints_on_unlock()


def _forget_on_purge() -> None:
    """When a case's content is purged or burned, its codename and thread copy go at once."""
    from haven.cases.signals import content_purged

    def forget(sender: Any, case: Any, **kwargs: Any) -> None:
        from .followup import forget as forget_case

        forget_case(case)

    content_purged.connect(forget, weak=False, dispatch_uid="haven.intake.forget")


def _fingerprints_on_unlock() -> None:
    """A member's key hashes what intake sealed (see haven.intake.fingerprints)."""
    from haven.cases import signals

    def compute(sender: Any, vault: Any, organization_id: int, **kwargs: Any) -> None:
        from .fingerprints import PER_VISIT, compute_pending

        compute_pending(vault, organization_id, PER_VISIT)

    def reopened(sender: Any, case: Any, vault: Any, **kwargs: Any) -> None:
        from .fingerprints import compute_pending, requeue

        requeue(case)
        compute_pending(vault, case.organization_id)

    def closed(sender: Any, case: Any, **kwargs: Any) -> None:
        from .fingerprints import forget_case

        forget_case(case)  # only ever compared with open cases

    signals.unlocked.connect(compute, weak=False, dispatch_uid="haven.intake.fingerprints")
    signals.reopened.connect(reopened, weak=False, dispatch_uid="haven.intake.reopened")
    signals.closed.connect(closed, weak=False, dispatch_uid="haven.intake.closed")
