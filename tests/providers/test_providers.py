"""What is special about a provider lives behind its interface (studio/providers/base.py):
pages and services ask it (label, bills, is_ai, can_cancel, cancel, forget), never its name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.providers.base import Failure, Provider, ProviderError
from studio.providers.catalogue import (
    NAMES,
    about,
    get_provider,
    provider_class,
)
from studio.providers.modellix import Modellix

ROOT = Path(__file__).resolve().parents[2]
# A branch on the local engine's name, however it is spelt, or reaching into its module.
NAMED = re.compile(
    r"""(==|!=)\s*["']local["']|["']local["']\s*(==|!=)|LocalEngine\.name"""
    r"|providers\.local import|from studio\.providers import .*\blocal\b"
)
# The django-q2 entry point of a local render is the engine's own task.
ENGINE_TASK = "studio/tasks.py"


def test_every_provider_has_the_whole_interface():
    members = {name for name in dir(Provider) if not name.startswith("_")} | set(
        Provider.__annotations__
    )
    assert {"bills", "is_ai", "can_cancel", "label", "cancel", "forget"} <= members
    for name in NAMES:
        kind = provider_class(name)
        missing = {member for member in members if not hasattr(kind, member)}
        assert not missing, (name, missing)
        assert kind.name == name


def test_what_pages_may_know_of_each_provider():
    local, modellix = about("local"), about("modellix")
    assert (local.bills, local.is_ai, local.can_cancel) == (False, False, True)
    assert local.label == "Cutroom's local engine"
    assert (local.model, modellix.model) == ("", "wan2.7-videoedit")  # named by disclosures
    assert (modellix.bills, modellix.is_ai, modellix.can_cancel) == (True, True, False)
    assert [name for name in NAMES if not about(name).bills] == ["local"]  # only the engine is free
    # A take may name a provider this Cutroom does not have (tests/takes/test_unknown_provider.py):
    # pages describe it as unknown, and only asking for the provider itself fails.
    assert about("elsewhere").label == "Unknown provider (elsewhere)"
    with pytest.raises(ValueError, match="unknown provider"):
        provider_class("elsewhere")
    with pytest.raises(ProviderError, match="a provider this Cutroom no longer has") as missing:
        get_provider("elsewhere")
    assert missing.value.failure == Failure.REJECTED and missing.value.config


def test_modellix_cannot_cancel_and_keeps_nothing_to_forget():
    client = Modellix(api_key="k", base_url="http://127.0.0.1:9", submit_path="/", media_mode="url")
    with pytest.raises(ProviderError) as refused:
        client.cancel("task-1")
    assert refused.value.failure == Failure.REJECTED
    client.forget("task-1")  # nothing to do, and no call is made


def test_no_page_or_service_branches_on_a_provider_name():
    outside = [
        *ROOT.glob("studio/**/*.py"),
        *ROOT.glob("accounts/**/*.py"),
        *ROOT.glob("templates/**/*.html"),
        *ROOT.glob("static/js/**/*.js"),
    ]
    found = []
    for path in outside:
        if "providers" in path.parts or "migrations" in path.parts:
            continue
        where = str(path.relative_to(ROOT))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if NAMED.search(line) and not (
                where == ENGINE_TASK and "import engine as local" in line
            ):
                found.append(f"{where}:{number}: {line.strip()}")
    assert found == []


def test_the_take_service_does_not_import_the_local_engine():
    engine = re.compile(r"providers\.local|from studio\.providers import .*\blocal\b")
    for path in (ROOT / "studio" / "takes").glob("*.py"):
        assert not engine.search(path.read_text()), path
