from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.forms import AddressField
from accounts.models import Invitation, Membership, Team, User


class AddressChangeForm(UserChangeForm):
    """Django's form, with the address in its one spelling (accounts/addresses.py)."""

    class Meta(UserChangeForm.Meta):
        model = User
        field_classes = {"email": AddressField}


class AddressCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)
        field_classes = {"email": AddressField}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AddressChangeForm
    add_form = AddressCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "name", "current_team")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    raw_id_fields = ["current_team"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "personal", "created_at"]
    search_fields = ["name", "code"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "team",
        "role",
        "created_by",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
    ]
    exclude = ["token_hash"]
    readonly_fields = ["used_by", "used_at"]
    raw_id_fields = ["team", "created_by"]
