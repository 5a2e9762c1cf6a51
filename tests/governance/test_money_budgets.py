"""Money budgets: a take reserves its estimate against every budget that covers it, the
provider's charge replaces the reservation, takes that end unbilled give it back, and no two
submissions together can go over a budget (docs/governance.md "Budgets")."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Instance, Membership
from studio.core.errors import Refused
from studio.governance import budgets
from studio.models import Take, TakeState, Trigger
from studio.takes.create import take_cancel, take_create, take_send_again, take_variations
from studio.takes.parameters import EditParameters
from tests.conftest import client_for, clip_row

pytestmark = pytest.mark.django_db

# 4 s at 1080P: 4 * 0.11645 = 0.4658 USD
PRICE = Decimal("0.4658")


@pytest.fixture(autouse=True)
def _paid(settings):
    settings.STUDIO_PROVIDER = "modellix"


@pytest.fixture
def clip(project):
    return clip_row(project)


def make(project, author, clip, **fields):
    parameters = EditParameters.of({"prompt": "clay", "resolution": "1080P"} | fields)
    return take_create(
        project=project, author=author, clip=clip, parameters=parameters, start=0, length=4
    )


def spent(**lookup) -> Decimal:
    return budgets.held(Take.objects.filter(**lookup))


def test_a_take_reserves_its_estimate_and_the_charge_replaces_it(project, bob, clip):
    take = make(project, bob, clip)
    assert take.estimate_usd == PRICE and take.reserved_usd == PRICE
    assert spent() == PRICE
    Take.objects.filter(pk=take.pk).update(charged_usd=Decimal("0.2400"))
    assert spent() == Decimal("0.24")


@pytest.mark.parametrize(
    ("path", "trigger", "keeps"),
    [
        ((), Trigger.CANCEL, False),
        ((Trigger.ADMIT,), Trigger.PREPARE_FAILED, False),
        ((Trigger.ADMIT, Trigger.PREPARED), Trigger.SUBMIT_FAILED, False),
        ((Trigger.ADMIT, Trigger.PREPARED, Trigger.SENT), Trigger.PROVIDER_FAILED, False),
        ((Trigger.ADMIT, Trigger.PREPARED), Trigger.SEND_UNCERTAIN, True),
        ((Trigger.ADMIT, Trigger.PREPARED, Trigger.SENT), Trigger.STOP_WAITING, True),
        ((Trigger.ADMIT, Trigger.PREPARED, Trigger.SENT), Trigger.DEADLINE, True),
        ((Trigger.ADMIT, Trigger.PREPARED, Trigger.SENT), Trigger.PROVIDER_FINISHED, True),
    ],
)
def test_only_takes_that_surely_were_not_billed_give_their_reservation_back(
    project, bob, clip, path, trigger, keeps
):
    take = make(project, bob, clip)
    for step in (*path, trigger):
        assert take.fire(step, step.value, provider_task_id="t-1" if step == "sent" else None)
    assert take.reserved_usd == (PRICE if keeps else 0)
    assert spent() == (PRICE if keeps else 0)


def test_a_take_over_the_team_budget_is_refused_with_who_can_raise_it(project, team, bob, clip):
    team.budget_usd = Decimal("1.00")
    team.save()
    make(project, bob, clip)
    make(project, bob, clip)
    with pytest.raises(budgets.OverBudget) as refused:
        make(project, bob, clip)
    message = str(refused.value)
    assert "Northwind Films's monthly budget (1.00 USD)" in message
    assert "has 0.07 USD left this month" in message
    assert "go over by 0.40 USD" in message
    assert "An owner of Northwind Films (Alice) can raise it." in message
    assert Take.objects.count() == 2  # nothing made, nothing sent
    team.budget_usd = Decimal("2.00")
    team.save()
    make(project, bob, clip)  # raised: it goes through
    assert Take.objects.count() == 3


@pytest.mark.parametrize("scope", ["instance", "cap", "member", "project"])
def test_every_kind_of_budget_is_enforced(project, team, bob, alice, clip, scope):
    limit = Decimal("0.50")
    if scope == "instance":
        Instance.objects.update_or_create(pk=1, defaults={"budget_usd": limit})
    elif scope == "cap":
        team.cap_usd = limit
        team.save()
    elif scope == "member":
        Membership.objects.filter(team=team, user=bob).update(budget_usd=limit)
    else:
        project.budget_usd = limit
        project.save()
    make(project, bob, clip)
    with pytest.raises(budgets.OverBudget) as refused:
        make(project, bob, clip)
    assert refused.value.budget.scope == scope
    if scope == "member":
        make(project, alice, clip)  # another member's takes are not bob's budget
    if scope in ("instance", "cap"):
        assert "administrator" in str(refused.value)


def test_the_instance_budget_comes_from_the_environment_until_the_administrator_sets_it(
    project, bob, clip, settings
):
    settings.INSTANCE_BUDGET_USD = Decimal("0.50")
    make(project, bob, clip)
    with pytest.raises(budgets.OverBudget):
        make(project, bob, clip)
    Instance.objects.update_or_create(pk=1, defaults={"budget_usd": Decimal("5")})
    make(project, bob, clip)


def test_variations_are_reserved_together_all_or_none(project, team, bob, clip):
    take = make(project, bob, clip)
    team.budget_usd = Decimal("2.00")
    team.save()
    with pytest.raises(budgets.OverBudget) as refused:
        take_variations(take=take, author=bob, count=4)  # 0.47 + 4 * 0.47 > 2
    assert "these 4 variations would cost about 1.86 USD" in str(refused.value)
    assert Take.objects.count() == 1
    assert len(take_variations(take=take, author=bob, count=3)) == 3
    assert spent() == PRICE * 4


def test_sending_again_reserves_the_new_request_and_is_refused_over_budget(
    project, team, bob, clip
):
    take = make(project, bob, clip)
    for step in (Trigger.ADMIT, Trigger.PREPARED, Trigger.SEND_UNCERTAIN):
        take.fire(step)
    take_send_again(take=take, author=bob)
    take.refresh_from_db()
    assert take.state == TakeState.QUEUED and take.reserved_usd == PRICE * 2
    for step in (Trigger.ADMIT, Trigger.PREPARED, Trigger.SEND_UNCERTAIN):
        take.fire(step)
    team.budget_usd = Decimal("1.00")
    team.save()
    with pytest.raises(Refused):
        take_send_again(take=take, author=bob)
    take.refresh_from_db()
    assert take.state == TakeState.UNCERTAIN and take.reserved_usd == PRICE * 2


def test_canceling_gives_the_reservation_back_at_once(project, team, bob, clip):
    team.budget_usd = Decimal("0.50")
    team.save()
    take = make(project, bob, clip)
    with pytest.raises(budgets.OverBudget):
        make(project, bob, clip)
    assert take_cancel(take=take)
    make(project, bob, clip)


def test_the_local_engine_is_never_blocked_and_costs_nothing(project, team, bob, clip, settings):
    settings.STUDIO_PROVIDER = "local"
    team.budget_usd = Decimal("0")
    team.save()
    takes = [make(project, bob, clip) for _ in range(3)]
    assert all(t.reserved_usd == 0 for t in takes)
    assert spent() == 0


def test_last_months_spend_does_not_count_this_month(project, team, bob, clip):
    team.budget_usd = Decimal("0.50")
    team.save()
    old = make(project, bob, clip)
    Take.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    make(project, bob, clip)
    [team_budget] = budgets.budgets_covering(project=project, author=bob)
    assert team_budget.spent == PRICE and team_budget.percent == 93 and team_budget.warning


def test_months_are_calendar_months_in_the_instance_zone():
    from datetime import date

    assert budgets.month_after(date(2026, 12, 1)) == date(2027, 1, 1)
    assert budgets.month_before(date(2027, 1, 1)) == date(2026, 12, 1)
    assert budgets.month_before(date(2026, 3, 1)) == date(2026, 2, 1)


def test_the_form_keeps_what_was_typed_and_says_which_budget_refused(project, team, bob, clip):
    team.budget_usd = Decimal("0.10")
    team.save()
    response = client_for(bob).post(
        reverse("take_new", args=[clip.code]),
        {
            "start": "0",
            "length": "4",
            "prompt": "Turn the ferry into clay",
            "resolution": "1080P",
            "ratio": "",
            "duration": "0",
            "audio_setting": "auto",
            "prompt_extend": "on",
            "seed": "7",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Northwind Films&#x27;s monthly budget (0.10 USD)" in page
    assert "Turn the ferry into clay" in page
    assert not Take.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_never_overspend(live_server, team, bob, alice, project, clip):
    """Twelve people-sized requests at the same moment against a budget for five takes."""
    team.budget_usd = PRICE * 5 + Decimal("0.01")
    team.save()
    sessions = []
    for user in (bob, alice) * 6:
        client = client_for(user)
        session = requests.Session()
        session.cookies.set(django_settings.SESSION_COOKIE_NAME, client.cookies["sessionid"].value)
        sessions.append(session)
    url = live_server.url + reverse("take_new", args=[clip.code])
    for session in sessions:  # a CSRF cookie and token for each
        session.get(url)
    start = threading.Barrier(len(sessions))
    codes: list[int] = []

    def submit(session: requests.Session) -> None:
        token = session.cookies["csrftoken"]
        data = {
            "csrfmiddlewaretoken": token,
            "start": "0",
            "length": "4",
            "prompt": "clay",
            "resolution": "1080P",
            "ratio": "",
            "duration": "0",
            "audio_setting": "auto",
            "prompt_extend": "on",
            "seed": "",
        }
        start.wait()
        answer = session.post(
            url, data, headers={"Referer": url, "Origin": live_server.url}, allow_redirects=False
        )
        codes.append(answer.status_code)

    threads = [threading.Thread(target=submit, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(codes) == [302] * 5 + [400] * 7
    assert Take.objects.count() == 5
    assert spent() <= team.budget_usd


def test_the_forms_are_told_what_every_budget_has_left(project, team, bob, clip, settings):
    team.budget_usd = Decimal("2.00")
    team.save()
    Membership.objects.filter(team=team, user=bob).update(budget_usd=Decimal("1.00"))
    make(project, bob, clip)  # holds 0.4658
    page = client_for(bob).get(reverse("take_new", args=[clip.code])).content.decode()
    room = [
        {
            "name": "Northwind Films's monthly budget",
            "left": "1.5342",
            "raise_by": "an owner of Northwind Films (Alice)",
        },
        {
            "name": "Bob's monthly budget in Northwind Films",
            "left": "0.5342",
            "raise_by": "an owner of Northwind Films (Alice)",
        },
    ]
    assert budgets.budgets_room(project=project, author=bob) == room
    assert 'id="budget-room"' in page and "0.5342" in page and 'id="budget-fit"' in page
    # With the local engine nothing is paid: no line.
    settings.STUDIO_PROVIDER = "local"
    assert budgets.budgets_room(project=project, author=bob) == []
    page = client_for(bob).get(reverse("take_new", args=[clip.code])).content.decode()
    assert 'id="budget-fit"' not in page
