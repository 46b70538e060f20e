"""Forms for accounts and project spaces."""

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import Role, User

USERNAME_TAKEN = "That username is taken. Try another."


def _clean_address(value: str) -> str:
    """An email address as we store it: trimmed, lower case, valid (no line breaks, one @, a domain)."""
    value = value.strip().lower()
    validate_email(value)
    return value


def _check_username_free(username: str) -> str:
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(USERNAME_TAKEN)
    return username


class SignUpForm(forms.Form):
    """The first step of a sign-up: a name and the address the link goes to.

    A taken username is said (people must pick another); a taken address is not: the answer
    is the same page and a mail to the address, whoever owns it.
    """

    username = forms.CharField(label="Username", max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text="Letters, digits and @ . + - _ only.")
    email = forms.CharField(label="Email address", max_length=254,
                            help_text="We send a link there to finish your account.")

    def clean_username(self) -> str:
        return _check_username_free(self.cleaned_data["username"])

    def clean_email(self) -> str:
        return _clean_address(self.cleaned_data["email"])


class FinishSignUpForm(BaseUserCreationForm):
    """The second step, from the mailed link: the username (again, in case it went meanwhile) and a password."""

    class Meta:
        model = User
        fields = ["username"]
        # A name taken between clean_username and the model's own unique check reads the same.
        error_messages = {"username": {"unique": USERNAME_TAKEN}}

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.email = email  # so the password validators compare against it

    def clean_username(self) -> str:
        return _check_username_free(self.cleaned_data["username"])


class ProfileForm(forms.ModelForm):
    """Name and address; a new address takes effect only from the link mailed to it.

    The address is not a model field here, so the form never says whether another account has it.
    """

    email = forms.CharField(label="Email address", max_length=254)

    class Meta:
        model = User
        fields = ["first_name", "last_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.email

    def clean_email(self) -> str:
        return _clean_address(self.cleaned_data["email"])


class ProjectForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=80)


class InviteForm(forms.Form):
    who = forms.CharField(label="Username or email", max_length=254,
                          help_text="A username, or an email address if they have no account yet.")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.EDITOR)

    def clean_who(self) -> str:
        who = self.cleaned_data["who"].strip()
        if "@" in who:
            try:
                return _clean_address(who)
            except ValidationError:
                raise ValidationError("Enter a valid email address, such as name@example.com.") from None
        try:
            UnicodeUsernameValidator()(who)
        except ValidationError:
            raise ValidationError("Enter a username (letters, digits and . + - _) or an email address.") from None
        return who


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=80, help_text="What the token is for, e.g. “render farm”.")
    credit_limit = forms.IntegerField(label="Credit limit", required=False, min_value=0,
                                      help_text="The most this token may spend in all; empty for no limit "
                                                "beyond your credits and the project's budget.")
    expires_on = forms.DateField(label="Expires on", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Empty: until you revoke it.")
    rate_limit = forms.CharField(label="Rate limit", required=False, max_length=20,
                                 help_text="Requests allowed, e.g. 60/m or 1000/h; empty for the site's default.")
