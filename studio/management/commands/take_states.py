"""Print the take's state chart and table from studio.takes.lifecycle.TAKE_TRANSITIONS, as
docs/takes.md
shows them (tests/takes/test_take_states.py checks that docs/takes.md holds exactly this text)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from studio.models import TakeState
from studio.takes.lifecycle import TAKE_TRANSITIONS

BEGIN = "<!-- take-states: printed by `manage.py take_states`; do not edit by hand -->"
END = "<!-- /take-states -->"


def take_states_text() -> str:
    chart = ["```mermaid", "stateDiagram-v2", f"    [*] --> {TakeState.QUEUED.value}"]
    table = ["| Event | From | To | When |", "|---|---|---|---|"]
    for trigger, move in TAKE_TRANSITIONS.items():
        for source in move.sources:
            chart.append(f"    {source.value} --> {move.target.value}: {trigger.value}")
        sources = ", ".join(source.value for source in move.sources)
        table.append(f"| `{trigger.value}` | {sources} | {move.target.value} | {move.when} |")
    chart.append("```")
    return "\n".join([BEGIN, *chart, "", *table, END]) + "\n"


class Command(BaseCommand):
    help = "Print the take's state chart and table for docs/takes.md."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(take_states_text(), ending="")
