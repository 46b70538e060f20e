"""The upload form of an input asset."""

from __future__ import annotations

from django import forms

from assets import media
from assets.models import Asset

ACCEPT = ("image/jpeg,image/png,image/webp,video/mp4,video/quicktime,video/x-matroska,"
          "video/webm,video/3gpp,audio/mpeg,audio/wav,audio/x-wav,audio/flac,audio/mp4,"
          "audio/x-m4a,audio/aac,.jpg,.jpeg,.png,.webp,.mp4,.mov,.mkv,.webm,.3gp,.mp3,.wav,"
          ".flac,.m4a,.aac")

TOO_LARGE = (f"This file is larger than {media.MAX_BYTES // (1024 * 1024)} MB, "
             "the most Runway accepts; nothing was saved.")


class AssetUploadForm(forms.ModelForm):
    """One file and an optional display name; the content is checked by the asset workflow."""

    class Meta:
        model = Asset
        fields = ("file", "name")
        labels = {"file": "File", "name": "Name (optional)"}
        help_texts = {
            "file": f"{media.ACCEPTED}; 512 bytes to 200 MB.",
            "name": "Shown in the asset list; the file name when left empty.",
        }

    def __init__(self, *args, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["name"].required = False
        self.fields["file"].widget = forms.ClearableFileInput(
            attrs={"accept": ACCEPT, "data-max-bytes": media.MAX_BYTES})
        if too_large:
            # The upload handler stopped reading; say why instead of "this field is required".
            self.fields["file"].required = False

    def clean_file(self):
        if self.too_large:
            raise forms.ValidationError(TOO_LARGE, code="too_large")
        return self.cleaned_data["file"]
