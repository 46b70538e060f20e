"""Adding a webhook endpoint: an https URL the delivery guard would send to, and the events it wants."""

from __future__ import annotations

from django import forms

from runway import downloads

from . import delivery
from .models import SUBSCRIBABLE


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="Endpoint URL", max_length=2000, assume_scheme="https",
        error_messages={"required": "Give the https URL that should receive the events.",
                        "invalid": "Enter a full URL, such as https://example.com/hooks/takes."},
        help_text="https only, on a public address. Redirects are not followed.")
    events = forms.MultipleChoiceField(
        label="Events", choices=[(c.value, f"{c.value} — {c.label}") for c in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send.",
                        "invalid_choice": "%(value)s is not an event Takes sends."})

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            delivery.check_url(url)
        except downloads.DownloadError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url
