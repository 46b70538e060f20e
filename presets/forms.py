"""The forms of the presets pages."""

from __future__ import annotations

from django import forms

from generations.models import Generation

RECENT = 50


class PresetForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, error_messages={
        "required": "Give the preset a name.", "max_length": "Keep the name under 100 characters."})
    prompt = forms.CharField(label="Prompt", required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="Write {a word in braces} where a value is asked for each time it is used.")


class FromGenerationForm(forms.Form):
    generation = forms.ModelChoiceField(label="Settings of", queryset=Generation.objects.none(),
                                        empty_label="Choose a generation…", error_messages={
                                            "required": "Choose the generation whose settings to keep.",
                                            "invalid_choice": "Choose one of this project's generations."})
    name = PresetForm.base_fields["name"]

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        recent = Generation.objects.in_project(project).order_by("-created_at")[:RECENT]
        self.fields["generation"].queryset = Generation.objects.filter(pk__in=recent.values("pk"))
        self.fields["generation"].label_from_instance = lambda g: f"#{g.pk} · {g.display_label} · {g.prompt[:60]}"


class UseForm(forms.Form):
    """One text box per placeholder of the preset's prompt."""

    def __init__(self, *args, placeholders: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for i, name in enumerate(placeholders):
            self.fields[f"p{i}"] = forms.CharField(label=name, max_length=2000, error_messages={
                "required": f"Fill in “{name}”."})
        self.placeholders = placeholders

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data[f"p{i}"] for i, name in enumerate(self.placeholders)}
