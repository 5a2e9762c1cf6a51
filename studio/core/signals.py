"""Events one domain announces and another acts on, so that the lower domain never imports the
higher one: a take's or a render's model says it ended; the review domain's inbox listens
(connected in studio.apps). Receivers run in the sender's transaction."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by Take.fire when a take reaches a last state its maker hears of: take=, event_id=.
take_ended = Signal()
# Sent by CutRender.finish when a render is ready or failed: render=, state=, reason=.
render_ended = Signal()
