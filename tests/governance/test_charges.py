"""Budgets hold against what the provider really charges, not only the price list: estimates
learn the highest recent charge per second of each configuration, a queued take is checked again
when a slot frees, and a take charged above its estimate shows by how much (issue 21, item 4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.governance import budgets, usage
from studio.models import Take, TakeState
from studio.takes import driver, estimates
from tests.conftest import take_row
from tests.pipeline import new_take, run

pytestmark = pytest.mark.django_db

# The fake's price list, and this Cutroom's, in USD per output second (the tests make 2 s takes).
LIST = Decimal("0.1")


@pytest.fixture
def priced(settings):
    settings.STUDIO_PROVIDER = "modellix"
    settings.PRICE_PER_SECOND = {"720P": LIST, "1080P": LIST * 2}


def charged(project, bob, amount, *, seconds=2, resolution="720P", provider="modellix", **fields):
    """A take of `seconds` at `resolution` that the provider charged `amount` for."""
    return take_row(
        project,
        state=TakeState.SUCCEEDED,
        provider=provider,
        created_by=bob,
        resolution=resolution,
        duration=seconds,
        charged_usd=Decimal(amount),
        **fields,
    )


def queued(project, bob, **fields):
    """A queued 2 s take at 720P on the paid provider, holding its price-list estimate."""
    fields = {"resolution": "720P", "duration": 2, "provider": "modellix"} | fields
    return take_row(project, state=TakeState.QUEUED, created_by=bob, **fields)


def test_a_provider_charging_three_times_its_list_overspends_by_one_take_at_most(
    priced, fake, queue, clip, bob, team, settings
):
    # One slot: a take's charge is known before the next one is let through. (With more slots,
    # every take already at the provider when the first dearer charge comes can overrun once.)
    settings.MAX_ACTIVE_EDITS = 1
    fake.charge_factor = 3
    team.budget_usd = Decimal("0.50")
    team.save()
    first = new_take(clip, bob, resolution="720P", duration=2)
    second = new_take(clip, bob, resolution="720P", duration=2)
    assert first.reserved_usd == second.reserved_usd == Decimal("0.2000")  # 0.40 of 0.50: fits

    run(first, second)

    assert first.state == TakeState.SUCCEEDED and first.charged_usd == Decimal("0.6000")
    overrun = first.charged_usd - first.estimate_usd
    spent = budgets.held(Take.objects.all())
    assert spent <= team.budget_usd + overrun  # over by one take's overrun at most
    assert fake.counts["submit"] == 1  # the second take was never sent
    assert second.state == TakeState.FAILED and second.reserved_usd == 0
    assert "Northwind Films's monthly budget (0.50 USD)" in second.reason
    assert "0.60 USD spent" in second.reason and "Nothing was sent or charged" in second.reason
    # The estimate has learned: a new take of this configuration costs what the provider charges.
    learned = estimates.take_estimate(provider="modellix", resolution="720P", seconds=2)
    assert learned == Decimal("0.6000")
    with pytest.raises(budgets.OverBudget) as refused:
        new_take(clip, bob, resolution="720P", duration=2)
    message = str(refused.value)
    assert "Northwind Films's monthly budget (0.50 USD) is used up" in message
    assert "0.60 USD spent" in message
    assert Take.objects.count() == 2


def test_the_estimate_is_the_highest_recent_charge_per_second_of_its_configuration(
    priced, project, bob
):
    def estimate(seconds=4, resolution="720P", provider="modellix"):
        return estimates.take_estimate(provider=provider, resolution=resolution, seconds=seconds)

    assert estimate() == Decimal("0.4000")  # nothing charged yet: the price list
    charged(project, bob, "0.1000")  # cheaper than the list: the list stays
    assert estimate() == Decimal("0.4000")
    charged(project, bob, "0.5000")  # 0.25 a second
    charged(project, bob, "0.3000")
    assert estimate() == Decimal("1.0000")  # the highest, not the last
    assert estimate(seconds=3) == Decimal("0.7500")
    # Other configurations learn nothing from it.
    assert estimate(resolution="1080P") == Decimal("0.8000")
    assert estimate(provider="local") == Decimal("0.4000")
    # Only the last HISTORY charged takes of the last LOOKBACK count.
    old = timezone.now() - estimates.LOOKBACK - timedelta(hours=1)
    charged(project, bob, "9.0000", created_at=old)
    assert estimate() == Decimal("1.0000")
    for _ in range(estimates.HISTORY):
        charged(project, bob, "0.2400")
    assert estimate() == Decimal("0.4800")


def test_a_queued_take_is_refused_when_a_slot_frees_once_the_budget_is_spent(
    priced, project, team, bob, queue
):
    team.budget_usd = Decimal("1.00")
    team.save()
    waiting = queued(project, bob)
    assert waiting.reserved_usd == Decimal("0.2000")
    charged(project, bob, "1.0000")  # spent == limit: nothing new starts

    assert driver.takes_admit() == 0

    waiting.refresh_from_db()
    assert waiting.state == TakeState.FAILED and waiting.reserved_usd == 0
    assert "Northwind Films's monthly budget (1.00 USD) is used up" in waiting.reason
    assert "1.00 USD spent" in waiting.reason
    assert "An owner of Northwind Films (Alice) can raise it" in waiting.reason
    assert not queue  # nothing prepared, nothing sent
    assert waiting.events.last().note.startswith("Not started: over budget")


def test_a_take_sent_again_and_refused_keeps_holding_its_first_request(
    priced, project, team, bob, queue
):
    team.budget_usd = Decimal("1.00")
    team.save()
    again = queued(project, bob, reserved_usd=Decimal("0.4000"), submit_posts=1)
    charged(project, bob, "1.0000")

    assert driver.takes_admit() == 0

    again.refresh_from_db()
    assert again.state == TakeState.FAILED
    assert again.reserved_usd == Decimal("0.2000")  # the first request may have been billed
    assert "the first one may have been billed" in again.reason


def test_a_queued_take_starts_with_the_learned_estimate_when_it_fits(
    priced, project, team, bob, queue
):
    team.budget_usd = Decimal("2.00")
    team.save()
    waiting = queued(project, bob)
    charged(project, bob, "0.6000")  # three times the list, after the take was queued

    assert driver.takes_admit() == 1

    waiting.refresh_from_db()
    assert waiting.state == TakeState.PREPARING
    assert waiting.estimate_usd == waiting.reserved_usd == Decimal("0.6000")
    assert (
        "estimate raised from about 0.20 USD (estimate) to 0.60 USD" in waiting.events.last().note
    )


def test_a_queued_take_is_refused_when_the_learned_estimate_would_go_over(
    priced, project, team, bob, queue
):
    team.budget_usd = Decimal("1.00")
    team.save()
    waiting = queued(project, bob)
    charged(project, bob, "0.6000")  # 0.60 spent; the take would now cost 0.60 more

    assert driver.takes_admit() == 0

    waiting.refresh_from_db()
    assert waiting.state == TakeState.FAILED
    assert "would go over by 0.20 USD" in waiting.reason


def test_takes_waiting_behind_do_not_hold_back_the_one_let_through(
    priced, project, team, bob, queue
):
    team.budget_usd = Decimal("1.00")
    team.save()
    now = timezone.now()
    first, *behind = [queued(project, bob, created_at=now + timedelta(seconds=n)) for n in range(4)]
    charged(project, bob, "0.3000", created_at=now - timedelta(seconds=1))

    assert driver.takes_admit() == 2  # two slots; 0.30 + 0.30 + 0.30 fits, a fourth would not

    states = [Take.objects.get(pk=t.pk).state for t in (first, *behind)]
    assert states[:2] == [TakeState.PREPARING, TakeState.PREPARING]


def test_a_charge_above_the_estimate_shows_the_difference(priced, project, team, bob, as_bob):
    take = charged(
        project, bob, "0.5000", estimate_usd=Decimal("0.1400"), reserved_usd=Decimal("0.1400")
    )
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "Charged 0.50 USD, 0.36 USD more than the 0.14 USD estimate" in page
    # Variations are offered at what they would now reserve: 0.25 USD a second, as charged.
    assert "2 variations · about 1.00 USD (estimate)" in page

    found = usage.team_usage(team=team, month=budgets.month_start())
    assert found.total.charged == Decimal("0.5000")
    assert found.total.charged_estimates == Decimal("0.1400")
    assert found.total.overcharged == 1
    html = as_bob.get(reverse("team_usage", args=[team.code])).content.decode()
    assert "0.36 USD more than estimated" in html
    assert take.code in html.split('id="over-estimate"', 1)[1]
    rows = as_bob.get(reverse("team_usage_csv", args=[team.code])).content.decode().splitlines()
    assert rows[0].endswith(",charged over estimate (USD)")
    assert rows[1].endswith(",0.1400,0.5000,0.5000,charge,0.3600")
