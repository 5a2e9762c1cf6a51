"""The budget forms: a monthly limit in USD, or none."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms

MAX_USD = Decimal("99999999.99")  # what the budget columns hold (10 digits, 2 decimals)
WRITE_AN_AMOUNT = (
    "Write an amount in USD such as 25, 12.50 or 1,250.50, or leave it empty for no limit."
)
# What a person means by an amount of money: ASCII digits, thousands grouped by threes with
# commas (or spaces) or not grouped at all, and a decimal point. Python's Decimal() reads much
# more ("1_000", "１０" in full-width or other scripts' digits, "-0", "1e3", "NaN", "Infinity"):
# none of that is what someone typing a budget means, so it is refused with what went wrong.
_AMOUNT = re.compile(
    r"(?:[0-9]{1,3}(?:([, ])[0-9]{3})(?:\1[0-9]{3})*|[0-9]*)(?:\.[0-9]*)?", re.ASCII
)


def _why_not(text: str) -> str:
    """What is wrong with `text`, which is not an amount, for the person who typed it."""
    if any(c.isdigit() and not ("0" <= c <= "9") for c in text):
        return f"Type the digits 0 to 9 only. {WRITE_AN_AMOUNT}"
    if "_" in text:
        return f"Group thousands with commas (1,000), not underscores. {WRITE_AN_AMOUNT}"
    if re.fullmatch(r"[0-9, ]*[0-9](\.[0-9]*)?", text, re.ASCII) and "," in text:
        return (
            "Commas group thousands in threes (1,250.50); cents come after a point (12.50). "
            + WRITE_AN_AMOUNT
        )
    return WRITE_AN_AMOUNT


def usd_amount(value: str) -> Decimal | None:
    """The budget `value` states: None when empty (no limit), else an amount of 0 or more, at
    most MAX_USD, in whole cents. forms.ValidationError says what is wrong with anything else.

    People type money as they see it written, so "1,250.50", "1 250.50", "$40" and "40 USD"
    are read too."""
    text = value.strip()
    text = text.removeprefix("$").strip()
    if text[-3:].lower() == "usd":
        text = text[:-3].strip()
    if not text:
        return None
    sign, unsigned = (text[0], text[1:].strip()) if text[0] in "+-" else ("", text)
    if not _AMOUNT.fullmatch(unsigned) or not any(c.isdigit() for c in unsigned):
        raise forms.ValidationError(_why_not(unsigned))
    amount = Decimal(unsigned.replace(",", "").replace(" ", ""))
    if sign == "-" and amount:
        raise forms.ValidationError(
            "A budget cannot be below 0. Use 0 for no paid takes, or leave it empty for no limit."
        )
    if sign:
        raise forms.ValidationError(
            "Write the amount without a sign: 0 for no paid takes, or an amount such as 25."
        )
    if amount > MAX_USD:
        raise forms.ValidationError("A monthly budget is at most 99,999,999.99 USD.")
    if amount != amount.quantize(Decimal("0.01")):
        raise forms.ValidationError("Use at most two decimals (whole cents), such as 12.50.")
    return amount.quantize(Decimal("0.01"))


class UsdField(forms.CharField):
    """A monthly amount in USD, read by usd_amount; empty is None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        # No max_length: a browser would cut a pasted amount at maxlength without a word.
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "no limit"}
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        return usd_amount(str(value or ""))


class BudgetForm(forms.Form):
    """A monthly budget in USD: empty for no limit, 0 for no paid takes."""

    MAX = MAX_USD

    limit = UsdField(label="Monthly budget (USD)", help_text="Empty: no limit. 0: no paid takes.")

    def __init__(self, *args: Any, label: str = "", key: str = "", **kwargs: Any) -> None:
        if key:
            kwargs.setdefault("auto_id", f"budget-{key}-%s")
        super().__init__(*args, **kwargs)
        if label:
            self.fields["limit"].label = label
