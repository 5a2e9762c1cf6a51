"""Who may join (docs/governance.md "Who may join"): by invitation (the default), open, or
addresses at chosen domains, on every path that makes an account; the first account
administers."""

from __future__ import annotations

import contextlib
import re
import threading
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Instance, Invitation, Membership, User
from accounts.services import SignupClosed, invitation_accept, invitation_create, user_signup
from tests.conftest import PASSWORD, client_for, last_link, make_user

pytestmark = pytest.mark.django_db

PASSWORDS = {"password1": PASSWORD, "password2": PASSWORD}


@pytest.fixture
def no_smtp(settings):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}


def request_link(client: Client, email: str, next_url: str = "") -> Any:
    """The first step of the mailed sign-up."""
    query = f"?next={next_url}" if next_url else ""
    return client.post(reverse("signup") + query, {"email": email, "name": "New"})


def at_once(client: Client, email: str, next_url: str = "") -> Any:
    """The one-step sign-up used when no mail can be sent."""
    query = f"?next={next_url}" if next_url else ""
    return client.post(reverse("signup") + query, {"email": email, "name": "New", **PASSWORDS})


def text(response: Any) -> str:
    return response.content.decode()


# -- the modes, on both ways of signing up ------------------------------------------------------
CASES = [
    # mode, domains, address, let in
    ("invite", [], "new@example.com", False),
    ("open", [], "new@example.com", True),
    ("domain", ["example.com"], "new@example.com", True),
    ("domain", ["example.com"], "New.Person@EXAMPLE.COM", True),  # any case
    ("domain", ["example.com", "studio.example.org"], "n@studio.example.org", True),
    ("domain", ["example.com"], "new@mail.example.com", False),  # a subdomain is another domain
    ("domain", ["example.com"], "new@example.com.evil.org", False),
    ("domain", ["example.com"], "new@evilexample.com", False),
    ("domain", [], "new@example.com", False),  # no domain chosen: nobody
]


@pytest.mark.parametrize(("mode", "domains", "email", "allowed"), CASES)
def test_mailed_signup_follows_the_mode(client, alice, settings, mode, domains, email, allowed):
    settings.SIGNUP, settings.SIGNUP_DOMAINS = mode, domains
    response = request_link(client, email)
    if allowed:
        assert response.status_code == 302 and response.url == reverse("signup_sent")
        finished = client.post(last_link("/signup/finish/"), PASSWORDS)
        assert finished.status_code == 302
        assert User.objects.filter(email=email.lower()).exists()
    else:
        assert response.status_code == 403
        assert not mail.outbox  # refused: no mail at all
        assert User.objects.count() == 1  # alice only
        assert "invitation" in text(response)


@pytest.mark.parametrize(("mode", "domains", "email", "allowed"), CASES)
def test_signup_without_mail_follows_the_mode(
    client, alice, settings, no_smtp, mode, domains, email, allowed
):
    settings.SIGNUP, settings.SIGNUP_DOMAINS = mode, domains
    response = at_once(client, email)
    assert User.objects.filter(email=email.lower()).exists() == allowed
    if allowed and mode == "domain":  # no mail proves the address: held for approval
        assert response.status_code == 200 and "_auth_user_id" not in client.session
        assert not User.objects.get(email=email.lower()).is_active
    elif allowed:
        assert response.status_code == 302
    else:
        assert response.status_code == 403
        assert User.objects.count() == 1 and Membership.objects.count() == 1
        assert "invitation" in text(response)


def test_a_domain_refusal_says_which_domains_and_how_else_to_get_in(client, alice, settings):
    settings.SIGNUP, settings.SIGNUP_DOMAINS = "domain", ["example.com", "example.org"]
    page = text(client.get(reverse("signup")))
    assert "open to addresses ending in @example.com or @example.org" in page
    refused = text(request_link(client, "someone@gmail.com"))
    assert 'id="id_email_error"' in refused
    assert "open to addresses ending in @example.com or @example.org only" in refused
    assert "ask an owner of the team you are joining for an invitation link" in refused


def test_a_domain_refusal_is_the_same_whether_the_address_has_an_account(client, settings):
    """The mailed flow still reveals nothing: outside the domains, an address with an account
    gets the same refusal as one without."""
    make_user("first@example.com")
    make_user("known@other.org")
    settings.SIGNUP, settings.SIGNUP_DOMAINS = "domain", ["example.com"]
    known = request_link(client, "known@other.org")
    unknown = request_link(client, "unknown@other.org")
    assert known.status_code == unknown.status_code == 403

    def page(response: Any) -> str:  # without the CSRF token, masked anew for each page
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text(response))

    assert page(known).replace("known@", "unknown@") == page(unknown)
    assert not mail.outbox


# -- invitation only: the closed page -----------------------------------------------------------
def test_the_closed_signup_page_says_how_to_get_in_and_shows_no_form(client, alice):
    response = client.get(reverse("signup"))
    assert response.status_code == 200
    page = text(response)
    assert "Sign-up is by invitation" in page
    assert "Ask an owner of the team you are joining for an invitation link" in page
    assert 'name="email"' not in page and "Continue" not in page
    # It names no account: not the administrator's, not anyone's.
    assert "alice" not in page.lower()


def test_a_refused_post_makes_nothing_and_sends_nothing(client, alice):
    response = request_link(client, "eve@example.com")
    assert response.status_code == 403
    assert "No account was made and no e-mail was sent" in text(response)
    assert 'name="email"' not in text(response)
    assert not mail.outbox
    assert list(User.objects.values_list("email", flat=True)) == ["alice@example.com"]


def test_the_closed_signup_is_refused_by_the_service_too(alice):
    with pytest.raises(SignupClosed, match="by invitation only"):
        user_signup(email="eve@example.com", password=PASSWORD)
    with pytest.raises(SignupClosed):
        services.signup_request(email="eve@example.com", name="", next_url="", site="http://x")
    assert User.objects.count() == 1 and not mail.outbox


def test_a_link_mailed_while_signup_was_open_is_checked_again_when_used(client, alice, settings):
    settings.SIGNUP = "open"
    request_link(client, "late@example.com")
    link = last_link("/signup/finish/")
    settings.SIGNUP = "invite"  # closed before the link is used
    page = client.get(link)
    assert page.status_code == 200
    assert "This sign-up cannot be finished" in text(page)
    assert "by invitation only" in text(page) and 'name="password1"' not in text(page)
    refused = client.post(link, PASSWORDS)
    assert refused.status_code == 403
    assert not User.objects.filter(email="late@example.com").exists()
    settings.SIGNUP = "open"  # open again: the same link works
    assert client.post(link, PASSWORDS).status_code == 302
    assert User.objects.filter(email="late@example.com").exists()


def test_the_administration_pages_choice_wins_over_the_environment(client, alice, settings):
    settings.SIGNUP, settings.SIGNUP_DOMAINS = "open", []
    Instance.objects.update_or_create(pk=1, defaults={"signup": "invite"})
    assert request_link(client, "eve@example.com").status_code == 403
    Instance.objects.filter(pk=1).update(signup="domain", signup_domains="example.org")
    settings.SIGNUP_DOMAINS = ["example.com"]  # not the environment's domains, the page's
    assert request_link(client, "eve@example.com").status_code == 403
    assert request_link(client, "eve@example.org").status_code == 302


# -- invitations always let their holder in -----------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "domains"), [("invite", []), ("domain", ["example.org"]), ("open", [])]
)
def test_an_invitation_lets_its_holder_in_whatever_the_mode(
    client, alice, team, settings, mode, domains
):
    settings.SIGNUP, settings.SIGNUP_DOMAINS = mode, domains
    _, token = invitation_create(team=team, role="editor", created_by=alice)
    path = reverse("invite_accept", args=[token])
    page = text(client.get(reverse("signup") + f"?next={path}"))
    assert "also accepts the invitation" in page and 'name="email"' in page
    assert request_link(client, "gus@elsewhere.net", path).url == reverse("signup_sent")
    finish = client.get(last_link("/signup/finish/"))
    assert "Choose your password" in text(finish)
    response = client.post(last_link("/signup/finish/"), PASSWORDS)
    assert response.url == reverse("team_detail", args=[team.code])
    assert Membership.objects.filter(team=team, user__email="gus@elsewhere.net").exists()


def test_an_invitation_works_without_mail_too(client, alice, team, no_smtp):
    _, token = invitation_create(team=team, role="viewer", created_by=alice)
    response = at_once(client, "gus@elsewhere.net", reverse("invite_accept", args=[token]))
    assert response.url == reverse("team_detail", args=[team.code])
    gus = User.objects.get(email="gus@elsewhere.net")
    assert Membership.objects.get(team=team, user=gus).role == "viewer"
    assert not gus.is_staff
    follow = client.get(response.url)
    assert "You joined Northwind Films as viewer." in text(follow)


def test_a_dead_invitation_lets_nobody_in_while_signup_is_closed(client, alice, team):
    invitation, token = invitation_create(team=team, role="editor", created_by=alice)
    Invitation.objects.filter(pk=invitation.pk).update(used_at=invitation.created_at)
    path = reverse("invite_accept", args=[token])
    page = client.get(reverse("signup") + f"?next={path}")
    assert "already been used" in text(page) and "Sign-up is by invitation" in text(page)
    assert 'name="email"' not in text(page)
    assert request_link(client, "gus@example.com", path).status_code == 403
    assert not mail.outbox and User.objects.count() == 1


def test_an_invitation_used_by_someone_else_before_the_link_is_used_makes_no_account(
    client, alice, dave, team
):
    """Invitation only, the invitation is what lets the person in: it is claimed in the same
    transaction as the account, so a lost race leaves no account behind either."""
    invitation, token = invitation_create(team=team, role="editor", created_by=alice)
    request_link(client, "gus@example.com", reverse("invite_accept", args=[token]))
    link = last_link("/signup/finish/")
    invitation_accept(invitation=invitation, user=dave)
    assert "already been used" in text(client.get(link))
    with pytest.raises(SignupClosed, match="already been used"):
        user_signup(email="gus@example.com", password=PASSWORD, invitation=invitation)
    refused = client.post(link, PASSWORDS)
    assert refused.status_code == 403
    assert not User.objects.filter(email="gus@example.com").exists()


def test_a_race_for_an_invitation_is_lost_inside_the_transaction(alice, dave, team):
    """The form was checked while the link was pending; it is used before the account is
    made: the claim fails, and the account made a moment before is undone."""
    invitation, _ = invitation_create(team=team, role="editor", created_by=alice)
    Invitation.objects.filter(pk=invitation.pk).update(used_at=invitation.created_at)
    # `invitation` still looks pending: only the compare-and-set can tell.
    with pytest.raises(SignupClosed, match="already been used"):
        user_signup(email="gus@example.com", password=PASSWORD, invitation=invitation)
    assert not User.objects.filter(email="gus@example.com").exists()
    assert Membership.objects.filter(team__name="gus's studio").count() == 0


# -- the first account -------------------------------------------------------------------------
def test_the_first_account_may_always_sign_up_and_administers(client):
    page = text(client.get(reverse("signup")))
    assert "This is the first account on this Cutroom" in page
    assert request_link(client, "Founder@Example.com").url == reverse("signup_sent")
    response = client.post(last_link("/signup/finish/"), PASSWORDS)
    assert response.status_code == 302
    founder = User.objects.get(email="founder@example.com")
    assert founder.is_staff and founder.is_superuser
    welcome = text(client.get(reverse("home"), follow=True))
    assert "Your account administers this Cutroom" in welcome
    # The second one, invitation only (the default), is refused.
    other = Client()
    assert request_link(other, "second@example.com").status_code == 403
    assert User.objects.count() == 1


def test_the_first_account_without_mail(client, no_smtp):
    assert at_once(client, "founder@example.com").status_code == 302
    assert User.objects.get(email="founder@example.com").is_superuser
    assert at_once(Client(), "second@example.com").status_code == 403


def test_later_accounts_do_not_administer(client, alice, settings):
    settings.SIGNUP = "open"
    request_link(client, "later@example.com")
    client.post(last_link("/signup/finish/"), PASSWORDS)
    later = User.objects.get(email="later@example.com")
    assert not later.is_staff and not later.is_superuser
    alice.refresh_from_db()
    assert alice.is_staff  # the earliest


def test_with_no_active_administrator_the_earliest_account_becomes_one(alice, bob, settings):
    User.objects.filter(pk=alice.pk).update(is_active=False)  # the only administrator leaves
    settings.SIGNUP = "open"
    user_signup(email="new@example.com", password=PASSWORD)
    bob.refresh_from_db()
    assert bob.is_staff and bob.is_superuser  # the earliest active account, not the newest
    assert not User.objects.get(email="new@example.com").is_staff


def test_migrate_restores_an_administrator_when_none_is_active(alice, bob):
    from django.core.management.sql import emit_post_migrate_signal

    User.objects.filter(pk=alice.pk).update(is_active=False)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    bob.refresh_from_db()
    assert bob.is_staff


def test_an_operator_can_create_the_administrator_with_createsuperuser(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, email="ops@example.com", verbosity=0)
    ops = User.objects.get(email="ops@example.com")
    assert ops.is_staff and ops.is_superuser
    # Sign-up is then no longer the first: invitation only, the next one is refused.
    assert "Sign-up is by invitation" in text(client.get(reverse("signup")))
    assert request_link(client, "someone@example.com").status_code == 403
    assert client_for(ops).get(reverse("administration")).status_code == 200


def _race(target: Any, emails: list[str]) -> list[Any]:
    """Run target(email) in one thread per address, all at once; what each returned or raised."""
    barrier = threading.Barrier(len(emails))
    results: list[Any] = [None] * len(emails)

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = target(emails[n])
        except Exception as error:  # noqa: BLE001 (the test looks at what was raised)
            results[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(emails))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def slow_policy(monkeypatch):
    """Each sign-up waits for the others (briefly) after reading the policy, so without the
    instance's lock all of them would read an empty instance."""
    real = services.signup_policy
    meeting = threading.Barrier(2)

    def waiting() -> Any:
        policy = real()
        # Broken when the other sign-up waits for the lock this one holds: as it should.
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(timeout=1)
        return policy

    monkeypatch.setattr(services, "signup_policy", waiting)


@pytest.mark.django_db(transaction=True)
def test_two_first_signups_at_once_make_one_administrator(slow_policy):
    def sign_up(email: str) -> Any:
        return user_signup(email=email, password=PASSWORD)

    results = _race(sign_up, ["one@example.com", "two@example.com"])
    made = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, SignupClosed)]
    assert len(made) == 1 and len(refused) == 1, results  # invitation only: one first account
    assert list(User.objects.filter(is_staff=True)) == made


@pytest.mark.django_db(transaction=True)
def test_two_first_signups_at_once_when_open_make_one_administrator(slow_policy, settings):
    settings.SIGNUP = "open"

    def sign_up(email: str) -> Any:
        return user_signup(email=email, password=PASSWORD)

    results = _race(sign_up, ["one@example.com", "two@example.com"])
    assert all(isinstance(r, User) for r in results), results
    assert User.objects.count() == 2
    assert User.objects.filter(is_staff=True, is_superuser=True).count() == 1


# -- what signed-out pages offer ---------------------------------------------------------------
def test_signed_out_pages_do_not_offer_a_closed_signup(client, alice):
    landing = text(client.get(reverse("home")))
    assert "Create an account" not in landing and ">Sign up<" not in landing
    assert "ask an owner of the team you are joining for an invitation link" in landing
    assert f'href="{reverse("login")}"' in landing
    login = text(client.get(reverse("login")))
    assert "Create an account" not in login
    assert "Accounts on this Cutroom are by invitation" in login


def test_signed_out_pages_offer_an_open_signup(client, alice, settings):
    settings.SIGNUP = "open"
    landing = text(client.get(reverse("home")))
    assert "Create an account" in landing and ">Sign up<" in landing
    assert "Create an account" in text(client.get(reverse("login")))
    settings.SIGNUP, settings.SIGNUP_DOMAINS = "domain", ["example.com"]
    landing = text(client.get(reverse("home")))
    assert ">Sign up<" in landing and "addresses ending in @example.com" in landing


def test_a_fresh_instance_invites_its_first_account(client, db):
    landing = text(client.get(reverse("home")))
    assert "Create the first account" in landing and "administers it" in landing


def test_the_sign_in_page_offers_signup_to_an_invitation_holder(client, alice, team):
    _, token = invitation_create(team=team, role="editor", created_by=alice)
    path = reverse("invite_accept", args=[token])
    login = text(client.get(reverse("login") + f"?next={path}"))
    assert "Create an account" in login
