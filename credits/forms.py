"""Forms for budgets and alert thresholds; they only parse, the ledger decides."""

from django import forms


class BudgetForm(forms.Form):
    amount = forms.IntegerField(
        label="Budget (credits)", min_value=0, max_value=10_000_000,
        help_text="What this project may still spend, generations in flight included.",
    )


class AlertForm(forms.Form):
    below = forms.IntegerField(
        label="Tell me when the balance drops below", min_value=0, max_value=10_000_000, required=False,
        help_text="In credits. Leave empty for no alert. You get one notice and one email per drop.",
    )
