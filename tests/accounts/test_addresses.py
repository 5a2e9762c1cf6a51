"""Look-alike addresses (docs/accounts.md "E-mail addresses"): one person cannot hold two
accounts whose addresses look the same. Addresses are normalised (NFKC, the domain in lower case
and IDNA) or refused (quoted local parts, invisible characters), at sign-up, at sign-in, at the
password reset and on the administration page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

PASSWORDS = {"password1": PASSWORD, "password2": PASSWORD}


@pytest.fixture(autouse=True)
def open_signup(settings: Any) -> None:
    settings.SIGNUP = "open"


@pytest.fixture
def no_smtp(settings: Any) -> None:
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}


@pytest.fixture
def gus(alice: User) -> User:
    return make_user("gus@example.com", "Gus")


def text(response: Any) -> str:
    return response.content.decode()


def at_once(email: str) -> Any:
    return Client().post(reverse("signup"), {"email": email, "name": "X", **PASSWORDS})


MAPPED = [
    "gus@ｅｘａｍｐｌｅ.com",  # full-width domain
    "GUS@EXAMPLE.COM",
    "ｇｕｓ@example.com",  # full-width local part
    "gus＠example.com",  # full-width at sign
]
REFUSED = [
    ('"gus"@example.com', "quoted"),
    ("gus@example.com\u200b", "invisible"),  # zero-width space
    ("gus@exa\u200bmple.com", "invisible"),
    ("gu\u00a0s@example.com", "space"),
    ("gus\u202e@example.com", "invisible"),  # right-to-left override
    ("güs@example.com", "letters and digits"),  # a local part outside ASCII
]


@pytest.mark.parametrize("email", MAPPED)
def test_look_alikes_map_to_the_same_account_at_signup(gus, no_smtp, email):
    response = at_once(email)
    assert "An account with this e-mail already exists" in text(response)
    assert User.objects.count() == 2  # alice and gus


@pytest.mark.parametrize(("email", "why"), REFUSED)
def test_look_alikes_are_refused_at_signup_with_a_reason(gus, no_smtp, email, why):
    response = at_once(email)
    assert response.status_code == 200
    assert why in text(response) and "Nothing was saved" in text(response)
    assert User.objects.count() == 2


@pytest.mark.parametrize(("email", "why"), REFUSED)
def test_look_alikes_are_refused_by_the_mailed_signup(gus, email, why):
    response = Client().post(reverse("signup"), {"email": email, "name": "X"})
    assert why in text(response)
    assert not mail.outbox


def test_a_mailed_signup_of_a_look_alike_reaches_the_real_account(gus):
    Client().post(reverse("signup"), {"email": "gus@ｅｘａｍｐｌｅ.com", "name": "X"})
    assert mail.outbox[0].to == ["gus@example.com"]
    assert "already has one" in mail.outbox[0].body


def test_an_idn_domain_is_stored_once_whichever_way_it_is_written(alice, no_smtp):
    assert at_once("nia@Bücher.example").status_code == 302
    assert User.objects.filter(email="nia@xn--bcher-kva.example").exists()
    assert "already exists" in text(at_once("nia@xn--bcher-kva.example"))


@pytest.mark.parametrize("email", [*MAPPED, " gus@example.com "])
def test_sign_in_finds_the_account_from_a_look_alike(gus, email):
    client = Client()
    response = client.post(reverse("login"), {"username": email, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_a_password_reset_for_a_look_alike_reaches_the_real_account(gus):
    Client().post(reverse("password_reset"), {"email": "gus@ｅｘａｍｐｌｅ.com"})
    assert [m.to for m in mail.outbox] == [["gus@example.com"]]


def test_the_services_refuse_a_look_alike_too(alice):
    from accounts.services import account_create

    with pytest.raises(ValueError, match="invisible"):
        account_create(email="gus@example.com\u200b", password=PASSWORD)
    made = account_create(email="Gus@ＥＸＡＭＰＬＥ.com", password=PASSWORD)
    assert made.email == "gus@example.com"


def test_an_account_stored_before_normalisation_still_signs_in(alice):
    """Older versions stored any address Django's validator let through, lower-cased."""
    User.objects.create(email="old@ｅｘａｍｐｌｅ.com", password="")
    old = User.objects.get(email="old@ｅｘａｍｐｌｅ.com")
    old.set_password(PASSWORD)
    old.save(update_fields=["password"])
    client = Client()
    client.post(reverse("login"), {"username": "old@ｅｘａｍｐｌｅ.com", "password": PASSWORD})
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("add", [False, True])
def test_the_django_admin_normalises_an_e_mail_change(alice, rf, add):
    """The only place an address changes after sign-up is Django's admin (/admin/)."""
    from django import forms
    from django.contrib.admin.sites import site

    request = rf.get("/")
    request.user = alice
    form = site._registry[User].get_form(request, None if add else alice)
    field = form.base_fields["email"]
    assert field.clean("Gus@ＥＸＡＭＰＬＥ.com") == "gus@example.com"
    with pytest.raises(forms.ValidationError, match="invisible"):
        field.clean("gus@example.com\u200b")
