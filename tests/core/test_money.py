"""Money is shown as people read it, the same way on every page."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from studio.core.formatting import usd, usd_estimate
from studio.templatetags.money import take_cost, usd_estimate_for


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.4233"), "0.42 USD"),
        (Decimal("0.125"), "0.13 USD"),  # half up, as people round
        (0.345, "0.35 USD"),  # a float that is 0.34499... in binary
        (Decimal("1.69320000000000"), "1.69 USD"),  # what a SQLite Sum returns
        ("0.995", "1.00 USD"),
        (Decimal("0.0049"), "< 0.01 USD"),
        (Decimal("0.0001"), "< 0.01 USD"),
        (Decimal("0.005"), "0.01 USD"),
        (Decimal("0"), "0.00 USD"),
        (0, "0.00 USD"),
        (Decimal("-0.0000"), "0.00 USD"),
        (Decimal("1234567.891"), "1,234,567.89 USD"),
        (None, "—"),
        ("", "—"),
        ("not money", "—"),
        (float("nan"), "—"),
    ],
)
def test_usd(value, shown):
    assert usd(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.4233"), "about 0.42 USD (estimate)"),
        (Decimal("0.0021"), "< 0.01 USD (estimate)"),
        (Decimal("0"), "0.00 USD"),  # nothing to pay is not a guess
        (Decimal("12000.5"), "about 12,000.50 USD (estimate)"),
        (None, "—"),
    ],
)
def test_usd_estimate(value, shown):
    assert usd_estimate(value) == shown


def test_local_engine_is_free_and_charges_are_plain():
    assert usd_estimate_for(Decimal("0.42"), "local") == "free (local engine)"
    assert usd_estimate_for(Decimal("0.42"), "modellix") == "about 0.42 USD (estimate)"
    take = SimpleNamespace(provider="modellix", charged_usd=None, estimate_usd=Decimal("0.4233"))
    assert take_cost(take) == "about 0.42 USD (estimate)"
    take.charged_usd = Decimal("0.2400")
    assert take_cost(take) == "0.24 USD"
    take.charged_usd = Decimal("0.0000")
    assert take_cost(take) == "0.00 USD"
    take.provider = "local"
    assert take_cost(take) == "free (local engine)"
