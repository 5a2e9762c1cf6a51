"""The administration page (docs/governance.md "The administration page"): only administrators
reach it; sign-up, the instance's budget, administrators, and every team's limits and
suspension."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Instance, Team, User
from studio.core.errors import Refused
from studio.models import Activity, Project, Take, TakeState
from studio.takes.create import take_send_again
from tests.conftest import client_for, clip_row, make_user, post_take

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def root(db: Any) -> User:
    """The first account, made before alice and the others: the instance's administrator, so
    that alice is a plain team owner here."""
    return make_user("root@example.com", "Root")


@pytest.fixture
def as_root(root: User) -> Client:
    return client_for(root)


@pytest.fixture
def clip(project):
    """The forms never decode the clip: a placeholder row is enough."""
    return clip_row(project)


def text(response: Any) -> str:
    return response.content.decode()


def page(client: Client) -> str:
    response = client.get(reverse("administration"))
    assert response.status_code == 200
    return text(response)


def team_card(body: str, team: Team) -> str:
    """The part of the page about one team."""
    start = body.index(f'id="team-{team.code}"')
    end = body.find("<article", start)
    return body[start : end if end != -1 else len(body)]


ADMIN_POSTS = [
    ("administration_signup", False),
    ("administration_budget", False),
    ("administrator_add", False),
    ("administrator_remove", False),
    ("administration_team_limits", True),
    ("administration_team_suspend", True),
    ("administration_team_lift", True),
]


# -- who may see it ----------------------------------------------------------------------------
def test_only_administrators_reach_the_page(
    root, as_root, as_alice, as_bob, as_carol, as_dave, team, client
):
    assert as_root.get(reverse("administration")).status_code == 200
    for other in (as_alice, as_bob, as_carol, as_dave, client):  # owner, editor, viewer, ...
        assert other.get(reverse("administration")).status_code == 404
        for name, for_team in ADMIN_POSTS:
            url = reverse(name, args=[team.code] if for_team else [])
            assert other.post(url, {"mode": "open", "email": "dave@example.com"}).status_code == 404
    assert Instance.objects.filter(signup="open").count() == 0
    assert not User.objects.get(email="dave@example.com").is_staff
    # A deactivated administrator is nobody.
    User.objects.filter(pk=root.pk).update(is_active=False)
    assert as_root.get(reverse("administration")).status_code == 404


def test_only_administrators_see_the_link_in_the_top_bar(as_root, as_alice):
    link = f'href="{reverse("administration")}"'
    assert link in text(as_root.get(reverse("team_list")))
    assert link not in text(as_alice.get(reverse("team_list")))


def test_the_forms_need_post(as_root, team):
    for name, for_team in ADMIN_POSTS:
        url = reverse(name, args=[team.code] if for_team else [])
        assert as_root.get(url).status_code == 405


# -- what it shows ----------------------------------------------------------------------------
def test_every_team_with_its_members_spend_and_active_takes(
    as_root, team, alice, bob, carol, make_take, dave
):
    make_take(TakeState.SUCCEEDED, charged_usd=Decimal("1.25"), reserved_usd=Decimal("0.40"))
    make_take(TakeState.RUNNING, reserved_usd=Decimal("0.50"))
    make_take(TakeState.QUEUED, reserved_usd=Decimal("0.25"))
    make_take(TakeState.QUEUED, reserved_usd=Decimal("0.25"))
    last_month = timezone.now() - timedelta(days=40)
    make_take(TakeState.SUCCEEDED, charged_usd=Decimal("9"), created_at=last_month)
    team.budget_usd = Decimal("100")
    team.save()
    body = page(as_root)
    card = team_card(body, team)
    assert "Northwind Films" in card
    for email, role in (
        ("alice@example.com", "Owner"),
        ("bob@example.com", "Editor"),
        ("carol@example.com", "Viewer"),
    ):
        row = re.search(rf'<tr data-member="{email}">.*?</tr>', card, re.S)
        assert row and email in row.group(0) and role in row.group(0)
    assert re.search(r'data-figure="spent">2\.25 USD<', card)  # 1.25 + 0.50 + 0.25 + 0.25
    assert re.search(r'data-figure="active">2 queued · 1 at the provider', card)
    assert re.search(r'data-figure="budget">100\.00 USD a month', card)
    assert "dave@example.com" in team_card(body, Team.objects.get(name="Dave's studio"))
    assert "2.25 USD</strong> held by every team" in body  # the instance's month


def test_teams_can_be_found_by_name_or_member(as_root, team, bob, dave):
    found = text(as_root.get(reverse("administration") + "?q=bob@example"))
    assert f'id="team-{team.code}"' in found and "Dave&#x27;s studio" not in found
    found = text(as_root.get(reverse("administration") + "?q=northwind"))
    assert f'id="team-{team.code}"' in found
    nothing = text(as_root.get(reverse("administration") + "?q=nobody-here"))
    assert "No team or member matches" in nothing


# -- sign-up -----------------------------------------------------------------------------------
def test_the_administrator_opens_and_closes_signup(as_root, root, client):
    assert "Now: <strong>by invitation only</strong>" in page(as_root)
    response = as_root.post(reverse("administration_signup"), {"mode": "open", "domains": ""})
    assert response.status_code == 302
    instance = Instance.objects.get(pk=1)
    assert instance.signup == "open" and instance.updated_by == root
    assert "Sign-up is now open to anyone" in text(as_root.get(response.url))
    assert 'name="email"' in text(client.get(reverse("signup")))
    as_root.post(reverse("administration_signup"), {"mode": "invite", "domains": ""})
    assert "Sign-up is by invitation" in text(client.get(reverse("signup")))


def test_domain_signup_needs_valid_domains(as_root, client):
    url = reverse("administration_signup")
    empty = as_root.post(url, {"mode": "domain", "domains": "  "})
    assert empty.status_code == 400
    assert "Give at least one domain" in text(empty)
    bad = as_root.post(url, {"mode": "domain", "domains": "example.com, not a domain, x@y"})
    assert bad.status_code == 400
    assert "These are not domains: not, a, domain, x@y" in text(bad)
    assert Instance.objects.get(pk=1).signup == ""  # nothing saved
    good = as_root.post(url, {"mode": "domain", "domains": "Example.COM; @studio.example.org"})
    assert good.status_code == 302
    assert Instance.objects.get(pk=1).signup_domains == "example.com, studio.example.org"
    shown = text(as_root.get(good.url))
    assert "open to addresses ending in @example.com or @studio.example.org" in shown
    signup = client.post(reverse("signup"), {"email": "n@studio.example.org"})
    assert signup.status_code == 302


# -- the instance's budget ---------------------------------------------------------------------
def test_the_instance_budget_is_set_and_shown_against_this_months_spend(
    as_root, settings, make_take
):
    settings.INSTANCE_BUDGET_USD = Decimal("20")
    make_take(charged_usd=Decimal("5"))
    body = page(as_root)
    assert "5.00 USD</strong> held by every team's takes, of 20.00 USD (25 %)" in body
    assert "from STUDIO_INSTANCE_BUDGET_USD" in body
    response = as_root.post(reverse("administration_budget"), {"budget_usd": "50"})
    assert response.status_code == 302
    assert Instance.objects.get(pk=1).budget_usd == Decimal("50")
    body = text(as_root.get(response.url))
    assert "monthly budget is now 50.00 USD" in body and "of 50.00 USD (10 %)" in body
    as_root.post(reverse("administration_budget"), {"budget_usd": ""})
    assert Instance.objects.get(pk=1).budget_usd is None  # back to the environment's


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("-1", "cannot be below 0"),
        ("12.345", "at most two decimals"),
        ("1e308", "Write an amount in USD"),
        ("100000000", "at most 99,999,999.99 USD"),
        ("lots", "Write an amount in USD"),
        ("-0", "without a sign"),
        ("1_000", "not underscores"),
        ("\uff15\uff10", "digits 0 to 9 only"),
    ],
)
def test_the_instance_budget_is_validated(as_root, value, words):
    response = as_root.post(reverse("administration_budget"), {"budget_usd": value})
    assert response.status_code == 400
    assert words in text(response)
    assert Instance.objects.get(pk=1).budget_usd is None


# -- administrators ----------------------------------------------------------------------------
def test_making_and_removing_administrators(as_root, root, dave, client):
    url = reverse("administrator_add")
    unknown = as_root.post(url, {"email": "nobody@example.com"})
    assert unknown.status_code == 400 and "No account uses this e-mail" in text(unknown)
    response = as_root.post(url, {"email": "DAVE@example.com"})
    assert response.status_code == 302
    dave.refresh_from_db()
    assert dave.is_staff and dave.is_superuser
    assert "Dave now administers this Cutroom" in text(as_root.get(response.url))
    assert client_for(dave).get(reverse("administration")).status_code == 200
    again = as_root.post(url, {"email": "dave@example.com"})
    assert "already administers" in text(again)
    # Dave stops root administering; then Dave is the last and cannot stop being one.
    as_dave = client_for(dave)
    as_dave.post(reverse("administrator_remove"), {"email": "root@example.com"})
    root.refresh_from_db()
    assert not root.is_staff and not root.is_superuser
    refused = as_dave.post(reverse("administrator_remove"), {"email": "dave@example.com"})
    assert "Make someone else an administrator first" in text(as_dave.get(refused.url))
    dave.refresh_from_db()
    assert dave.is_staff
    assert "The only administrator cannot stop being one" in page(as_dave)


def test_an_administrator_may_step_down_when_another_remains(as_root, root, dave):
    as_root.post(reverse("administrator_add"), {"email": "dave@example.com"})
    response = as_root.post(reverse("administrator_remove"), {"email": "root@example.com"})
    assert response.url == reverse("home")
    assert as_root.get(reverse("administration")).status_code == 404


# -- a team's limits ---------------------------------------------------------------------------
def limits(client: Client, team: Team, cap: str, active: str) -> Any:
    prefix = f"t-{team.code}"
    return client.post(
        reverse("administration_team_limits", args=[team.code]),
        {f"{prefix}-cap_usd": cap, f"{prefix}-max_active": active, "q": "north"},
    )


def history(team: Team) -> list[str]:
    return list(
        Activity.objects.filter(team=team, verb="administered")
        .order_by("pk")
        .values_list("summary", flat=True)
    )


def test_the_administrator_caps_a_team_and_limits_its_takes_at_once(as_root, root, team, settings):
    settings.TEAM_MAX_ACTIVE = 3
    response = limits(as_root, team, "25", "2")
    assert response.status_code == 302
    assert response.url == reverse("administration") + f"?q=north#team-{team.code}"
    team.refresh_from_db()
    assert team.cap_usd == Decimal("25") and team.max_active == 2
    assert history(team) == [
        "capped the team's spend at 25.00 USD a month; limited the team to 2 takes at the "
        "provider at once (as administrator)"
    ]
    assert Activity.objects.get(team=team, verb="administered").actor == root
    assert "Northwind Films: capped the team" in text(as_root.get(response.url))
    assert limits(as_root, team, "25", "2").status_code == 302  # unchanged: no line
    assert len(history(team)) == 1
    limits(as_root, team, "", "")
    team.refresh_from_db()
    assert team.cap_usd is None and team.max_active is None
    assert history(team)[-1] == (
        "removed the team's monthly cap; set the team's takes at the provider at once back "
        "to the default, 3 (as administrator)"
    )


@pytest.mark.parametrize(
    ("cap", "active", "words"),
    [
        ("-5", "", "cannot be below 0"),
        ("-0", "", "without a sign"),
        ("1_000", "", "not underscores"),
        ("", "0", "suspend the team to stop its takes"),
        ("", "1001", "At most 1000"),
        ("", "two", "Write a whole number"),
    ],
)
def test_team_limits_are_validated(as_root, team, cap, active, words):
    response = limits(as_root, team, cap, active)
    assert response.status_code == 400
    assert words in team_card(text(response), team)
    team.refresh_from_db()
    assert team.cap_usd is None and team.max_active is None and not history(team)


def test_the_administrators_cap_holds_takes_back(as_root, team, project, clip, as_bob, settings):
    settings.STUDIO_PROVIDER = "modellix"
    limits(as_root, team, "0.10", "")
    response = post_take(as_bob, clip)
    assert response.status_code == 400
    assert "the monthly cap on Northwind Films" in text(response)
    assert not Take.objects.exists()


# -- suspension --------------------------------------------------------------------------------
def suspend(client: Client, team: Team, reason: str) -> Any:
    return client.post(
        reverse("administration_team_suspend", args=[team.code]),
        {f"t-{team.code}-reason": reason},
    )


def lift(client: Client, team: Team, note: str = "") -> Any:
    return client.post(
        reverse("administration_team_lift", args=[team.code]), {f"t-{team.code}-note": note}
    )


def test_a_suspension_needs_a_reason(as_root, team):
    response = suspend(as_root, team, "   ")
    assert response.status_code == 400
    assert "Say why, for the team&#x27;s members." in team_card(text(response), team)
    team.refresh_from_db()
    assert not team.is_suspended and not history(team)


def test_suspending_a_team_holds_its_takes_and_tells_its_members(
    as_root, root, team, project, clip, as_bob, bob, make_take
):
    queued = make_take(TakeState.QUEUED)
    response = suspend(as_root, team, "Unpaid invoice for November")
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.is_suspended and team.suspended_reason == "Unpaid invoice for November"
    assert history(team) == ["suspended the team: Unpaid invoice for November (as administrator)"]
    body = text(as_root.get(response.url))
    assert "Northwind Films is suspended: its queued takes wait" in body
    assert "Lift suspension" in team_card(body, team)
    # Nothing is deleted: the queued take waits where it was.
    queued.refresh_from_db()
    assert queued.state == TakeState.QUEUED and Project.objects.filter(pk=project.pk).exists()
    # Its members see why, on the team's, the project's and the clip's pages.
    for url in (
        reverse("team_detail", args=[team.code]),
        reverse("project_detail", args=[project.code]),
        reverse("clip_detail", args=[clip.code]),
    ):
        seen = text(as_bob.get(url))
        assert 'id="team-suspended"' in seen and "Unpaid invoice for November" in seen
    # The take form says so before anything is filled in, and cannot be sent.
    form = text(as_bob.get(reverse("take_new", args=[clip.code])))
    assert "Northwind Films is suspended" in form
    assert re.search(r"<button[^>]*disabled[^>]*>Start the take</button>", form)
    sent = post_take(as_bob, clip)
    assert sent.status_code == 400
    assert "is suspended by the administrator of this Cutroom" in text(sent)
    # Run again and variations say so as a message, and make nothing.
    for name, data in (("take_again", {}), ("take_variations", {"count": "2"})):
        response = as_bob.post(reverse(name, args=[queued.code]), data, follow=True)
        assert "is suspended by the administrator" in text(response)
    assert Take.objects.count() == 1
    # A new paid request for an uncertain take is refused too.
    Take.objects.filter(pk=queued.pk).update(state=TakeState.UNCERTAIN)
    queued.refresh_from_db()
    with pytest.raises(Refused, match="suspended"):
        take_send_again(take=queued, author=bob)


def test_lifting_a_suspension(as_root, team, as_bob, clip):
    suspend(as_root, team, "Checking the invoices")
    assert suspend(as_root, team, "Twice").status_code == 302  # already: nothing changes
    team.refresh_from_db()
    assert team.suspended_reason == "Checking the invoices"
    response = lift(as_root, team, "Paid")
    assert response.status_code == 302
    team.refresh_from_db()
    assert not team.is_suspended and team.suspended_reason == ""
    assert history(team) == [
        "suspended the team: Checking the invoices (as administrator)",
        "lifted the team's suspension: Paid (as administrator)",
    ]
    assert "is no longer suspended" in text(as_root.get(response.url))
    assert 'id="team-suspended"' not in text(as_bob.get(reverse("team_detail", args=[team.code])))
    assert "disabled" not in text(as_bob.get(reverse("take_new", args=[clip.code])))
    assert lift(as_root, team).status_code == 302  # not suspended: nothing to do
    assert len(history(team)) == 2


def test_members_read_the_administrators_changes_in_the_teams_history(as_root, team, as_carol):
    suspend(as_root, team, "Too many takes")
    feed = text(as_carol.get(reverse("team_activity", args=[team.code])))
    assert 'data-verb="administered"' in feed
    assert "Root</span> suspended the team: Too many takes (as administrator)" in feed


def test_an_unknown_team_is_404_for_the_administrator_too(as_root):
    response = as_root.post(reverse("administration_team_suspend", args=["nope"]), {})
    assert response.status_code == 404
