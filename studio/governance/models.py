"""Budget alerts: which warning was sent for which budget and month."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class BudgetAlert(models.Model):
    """A warning about a budget that was mailed to a team's owners (or the administrator), so
    each level of each budget is mailed once a month."""

    scope = models.CharField(max_length=10)  # instance, cap, team, member, project
    key = models.CharField(max_length=40)  # which one: the team code, member code, project code
    month = models.DateField()  # the first day of the month the spend counts for
    level = models.PositiveSmallIntegerField()  # percent: 80, 100
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "month", "level"], name="one_alert_per_budget_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {self.month:%Y-%m} {self.level} %"
