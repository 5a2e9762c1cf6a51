"""The budget form: a monthly limit in USD, or none."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms


class BudgetForm(forms.Form):
    """A monthly budget in USD: empty for no limit, 0 for no paid takes.

    People type money as they see it written, so "1,250.50", "$40" and "40 USD" are read too;
    the amount then has at most two decimals."""

    MAX = Decimal("99999999.99")  # what the budget columns hold (10 digits, 2 decimals)

    limit = forms.CharField(
        label="Monthly budget (USD)",
        required=False,
        # No max_length: a browser would cut a pasted amount at maxlength without a word.
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "no limit"}
        ),
        help_text="Empty: no limit. 0: no paid takes.",
    )

    def __init__(self, *args: Any, label: str = "", key: str = "", **kwargs: Any) -> None:
        if key:
            kwargs.setdefault("auto_id", f"budget-{key}-%s")
        super().__init__(*args, **kwargs)
        if label:
            self.fields["limit"].label = label

    def clean_limit(self) -> Decimal | None:
        text = self.cleaned_data["limit"].strip()
        text = text.removeprefix("$").removesuffix("USD").removesuffix("usd").strip()
        text = text.replace(",", "").replace(" ", "")
        if not text:
            return None
        try:
            amount = Decimal(text)
        except ArithmeticError:
            amount = None
        if amount is None or not amount.is_finite() or "e" in text.lower():
            raise forms.ValidationError(
                "Write an amount in USD such as 25 or 12.50, or leave it empty for no limit."
            )
        if amount < 0:
            raise forms.ValidationError(
                "A budget cannot be below 0. Use 0 for no paid takes, or leave it empty for "
                "no limit."
            )
        if amount > self.MAX:
            raise forms.ValidationError("A monthly budget is at most 99,999,999.99 USD.")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError("Use at most two decimals (whole cents), such as 12.50.")
        return amount.quantize(Decimal("0.01"))
