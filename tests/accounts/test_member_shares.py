"""Share links made by someone who leaves the team: the owner removing them chooses, in the
removal confirmation that lists the links, to keep or revoke them; someone who leaves on their
own keeps their links working, and the owners see them listed with a way to revoke them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from accounts.services import TeamRuleError, membership_remove
from studio.models import Activity, ShareLink, Take
from studio.review import shares
from tests.conftest import take_row

pytestmark = pytest.mark.django_db


def finished(project, author, prompt: str) -> Take:
    return take_row(project, created_by=author, prompt=prompt, title=prompt.title())


def share(take: Take, author, **fields) -> tuple[ShareLink, str]:
    link, token = shares.share_create(
        take=take, author=author, days=7, allow_download=False, show_prompt=True
    )
    if fields:
        ShareLink.objects.filter(pk=link.pk).update(**fields)
    return link, token


@pytest.fixture
def bobs_links(project, bob, alice):
    """Bob made two live links, one expired and one revoked; Alice made one of her own."""
    clay, winter = finished(project, bob, "clay harbour"), finished(project, bob, "winter harbour")
    live = [share(clay, bob), share(winter, bob)]
    share(clay, bob, expires_at=timezone.now() - timedelta(days=1))
    share(clay, bob, revoked_at=timezone.now())
    share(winter, alice)
    return live


def works(token: str) -> bool:
    return Client().get(reverse("share_page", args=[token])).status_code == 200


def membership(user, team) -> Membership:
    return Membership.objects.get(user=user, team=team)


def history_lines(team) -> list[str]:
    return [f"{a.actor.display_name} {a.summary}" for a in Activity.objects.filter(team=team)]


# -- the removal confirmation ----------------------------------------------------------------
def test_remove_button_opens_a_confirmation_that_lists_the_live_links(
    as_alice, team, bob, bobs_links
):
    member = membership(bob, team)
    members = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    assert f'href="?remove={member.code}#remove-member"' in members
    page = as_alice.get(reverse("team_members", args=[team.code]), {"remove": member.code})
    html = page.content.decode()
    card = html.split('id="remove-member"', 1)[1].split("</section>", 1)[0]
    assert "Remove Bob from Northwind Films?" in card
    assert "Bob made 2 share links that still work" in card
    assert card.count('data-share-link="') == 2  # not the expired, revoked or Alice's links
    assert "Clay Harbour" in card and "Winter Harbour" in card
    assert 'name="shares" value="revoke"' in card and 'name="shares" value="keep"' in card
    assert f'action="{reverse("member_remove", args=[team.code, member.code])}"' in card


def test_confirmation_for_a_member_without_links_asks_nothing_more(as_alice, team, carol):
    member = membership(carol, team)
    html = as_alice.get(
        reverse("team_members", args=[team.code]), {"remove": member.code}
    ).content.decode()
    card = html.split('id="remove-member"', 1)[1].split("</section>", 1)[0]
    assert "Carol has made no share links that still work." in card
    assert 'name="shares"' not in card


def test_only_owners_see_a_confirmation_and_only_for_this_team(as_bob, as_alice, team, carol, dave):
    member = membership(carol, team)
    page = as_bob.get(reverse("team_members", args=[team.code]), {"remove": member.code})
    assert 'id="remove-member"' not in page.content.decode()
    foreign = Membership.objects.get(user=dave)  # dave's personal team
    for code in (foreign.code, "not-a-uuid"):
        page = as_alice.get(reverse("team_members", args=[team.code]), {"remove": code})
        assert page.status_code == 200 and 'id="remove-member"' not in page.content.decode()


def test_removing_with_revoke_stops_the_links_and_says_so_in_the_history(
    as_alice, team, bob, bobs_links
):
    response = as_alice.post(
        reverse("member_remove", args=[team.code, membership(bob, team).code]),
        {"shares": "revoke"},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Bob was removed from the team; the 2 share links they made stopped working."
    ]
    assert not Membership.objects.filter(user=bob, team=team).exists()
    assert not any(works(token) for _, token in bobs_links)
    assert ShareLink.objects.filter(created_by=bob, revoked_at__isnull=True).count() == 1  # expired
    assert history_lines(team)[0] == "Alice removed Bob and revoked the 2 share links they made"


def test_removing_with_keep_leaves_the_links_working_and_lists_them(
    as_alice, team, bob, bobs_links
):
    as_alice.post(
        reverse("member_remove", args=[team.code, membership(bob, team).code]), {"shares": "keep"}
    )
    assert all(works(token) for _, token in bobs_links)
    assert history_lines(team)[0] == (
        "Alice removed Bob and kept the 2 share links they made working"
    )
    html = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    section = html.split('id="former-links"', 1)[1].split("</section>", 1)[0]
    assert section.count('data-share-link="') == 2 and "made by Bob" in section


def test_removal_without_a_choice_is_refused_while_links_are_live(as_alice, team, bob, bobs_links):
    member = membership(bob, team)
    response = as_alice.post(reverse("member_remove", args=[team.code, member.code]), follow=True)
    assert response.redirect_chain[-1][0].endswith(f"?remove={member.code}#remove-member")
    assert [str(m) for m in response.context["messages"]] == [
        "Choose whether the 2 share links Bob made keep working or stop now."
    ]
    assert Membership.objects.filter(pk=member.pk).exists()
    assert all(works(token) for _, token in bobs_links)


def test_removal_of_someone_without_links_needs_no_choice(as_alice, team, carol):
    as_alice.post(reverse("member_remove", args=[team.code, membership(carol, team).code]))
    assert not Membership.objects.filter(user=carol, team=team).exists()
    assert history_lines(team)[0] == "Alice removed Carol"


def test_the_service_applies_the_choice_in_the_same_call(team, alice, bob, bobs_links):
    member = membership(bob, team)
    with pytest.raises(ValueError):
        membership_remove(membership=member, actor=alice, shares="maybe")
    assert Membership.objects.filter(pk=member.pk).exists()
    membership_remove(membership=member, actor=alice, shares="revoke")
    assert not any(works(token) for _, token in bobs_links)


def test_the_last_owner_still_cannot_go(team, alice, owner_membership, bob):
    with pytest.raises(TeamRuleError):
        membership_remove(membership=owner_membership, actor=alice, shares="revoke")


# -- leaving on one's own: links stay, owners see them ---------------------------------------
def test_leaving_keeps_the_links_and_tells_the_owners(as_bob, as_alice, team, bob, bobs_links):
    response = as_bob.post(reverse("team_leave", args=[team.code]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "You left Northwind Films. The 2 share links you made still work; the team's owners "
        "can revoke them."
    ]
    assert all(works(token) for _, token in bobs_links)
    assert history_lines(team)[0] == (
        "Bob left the team; the 2 share links they made still work (listed on the members page)"
    )
    html = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    section = html.split('id="former-links"', 1)[1].split("</section>", 1)[0]
    assert "Share links made by people who left" in section
    assert section.count('data-share-link="') == 2


def test_the_leave_button_says_links_stay(as_bob, team):
    html = as_bob.get(reverse("team_members", args=[team.code])).content.decode()
    assert "Share links you made keep working until an owner revokes them." in html


def test_owner_revokes_one_or_all_of_a_former_members_links(
    as_alice, as_bob, team, bob, bobs_links
):
    as_bob.post(reverse("team_leave", args=[team.code]))
    (first, first_token), (_, second_token) = bobs_links
    url = reverse("team_former_shares_revoke", args=[team.code])
    response = as_alice.post(url, {"link": first.code}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["1 share link stopped working."]
    assert not works(first_token) and works(second_token)
    as_alice.post(url, {"all": "1"})
    assert not works(second_token)
    assert history_lines(team)[0] == "Alice revoked 1 share link made by people who left the team"
    html = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    assert 'id="former-links"' not in html


def test_former_member_links_are_the_owners_business_only(
    as_alice, as_bob, as_carol, team, bob, bobs_links, project
):
    # A current member's links cannot be revoked through this form.
    another = finished(project, bob, "still here")
    link, token = share(another, bob)
    url = reverse("team_former_shares_revoke", args=[team.code])
    as_alice.post(url, {"link": link.code})
    assert works(token)
    assert as_carol.post(url, {"all": "1"}).status_code == 403
    assert as_alice.get(url).status_code == 405


def test_links_of_a_deleted_account_are_listed_too(as_alice, team, project, dave):
    link, token = share(finished(project, dave, "orphan"), dave)  # dave was once a member
    dave.delete()
    html = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    section = html.split('id="former-links"', 1)[1].split("</section>", 1)[0]
    assert f'data-share-link="{link.code}"' in section and "made by a deleted account" in section
    as_alice.post(reverse("team_former_shares_revoke", args=[team.code]), {"link": link.code})
    assert not works(token)
