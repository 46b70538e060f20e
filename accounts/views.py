"""Sign-up, sign-in, password reset, profile and the landing redirect.

Nothing here tells whether an email address has an account: sign-up, password reset and
an address change answer the same either way, and the mail goes to the address's owner.
Sign-in and password changes are Django's views; sign-in is wrapped to count failures per
client address (django-axes locks one account for one address; see config/settings.py).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from core.http import safe_next
from core.ratelimit import check, ip_of, person_of, spend, tally

from . import emails, links
from .actions import AccountError, confirm_address, create_account, ensure_personal_project
from .forms import FinishSignUpForm, ProfileForm, SignUpForm
from .models import Invitation, User


def invitation_in(next_url: str | None) -> Invitation | None:
    """The open invitation a `next` link leads to: how a signed-out invitee arrives."""
    if not next_url:
        return None
    try:
        match = resolve(urlsplit(next_url).path)
    except Resolver404:
        return None
    if match.url_name != "invitation":
        return None
    invitation = Invitation.objects.by_token(match.kwargs["token"])
    return invitation if invitation is not None and invitation.is_open else None


# --- sign-up -------------------------------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request):
    """Step one: a username and an address, answered by a mail. Step two (?token=…): a password."""
    if request.user.is_authenticated:
        return redirect("home")
    token = request.POST["token"] if "token" in request.POST else request.GET.get("token")
    if token is not None:
        return _finish_signup(request, token)
    invitation = invitation_in(safe_next(request))
    form = SignUpForm(request.POST or None, initial={"email": invitation.typed_address} if invitation else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        spend(request, "sign-up-ip", ip_of(request))
        spend(request, "sign-up-address", "address:" + email)
        owner = User.objects.filter(email__iexact=email).first()
        if owner is not None:
            emails.send_sign_up_notice(user=owner)
        else:
            emails.send_sign_up_link(email=email, token=links.sign_up_token(
                username=form.cleaned_data["username"], email=email, next_url=safe_next(request) or ""))
        return TemplateResponse(request, "accounts/signup_sent.html",
                                {"email": email, "hours": settings.ADDRESS_LINK_MAX_AGE // 3600})
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "accounts/signup.html",
                            {"form": form, "next": safe_next(request), "invitation": invitation}, status=status)


def _finish_signup(request, token: str):
    try:
        pending = links.read_sign_up_token(token)
    except links.LinkError as exc:
        return TemplateResponse(request, "accounts/signup_finish.html", {"error": str(exc)}, status=400)
    form = FinishSignUpForm(request.POST if request.method == "POST" else None,
                            initial={"username": pending.username}, email=pending.email)
    invitation = invitation_in(pending.next_url)
    context = {"form": form, "email": pending.email, "token": token, "invitation": invitation}
    if User.objects.filter(email__iexact=pending.email).exists():
        context["error"] = ("This link was already used: an account with this address exists already. "
                            "Sign in, or reset your password.")
        return TemplateResponse(request, "accounts/signup_finish.html", context, status=400)
    if request.method == "POST" and form.is_valid():
        try:
            user = create_account(username=form.cleaned_data["username"], email=pending.email,
                                  password=form.cleaned_data["password1"])
        except AccountError as exc:
            form.add_error(exc.field, str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if invitation is not None:
                # They came for the project: the invitation comes first, the personal space later.
                messages.success(request, f"Welcome to Takes, {user.username}. Accept the invitation below to "
                                          f"join {invitation.project}.")
            else:
                messages.success(request, f"Welcome to Takes, {user.username}. This is your personal space.")
            return redirect(_same_site(request, pending.next_url) or "home")
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "accounts/signup_finish.html", context, status=status)


def _same_site(request, url: str) -> str | None:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return None


# --- sign-in and password reset ------------------------------------------------------------------

@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in(request):
    """Django's sign-in, refused for an address that failed too often, over whichever accounts."""
    tried = request.method == "POST" and bool(request.POST.get("username") and request.POST.get("password"))
    if tried:
        check(request, "sign-in-failures-ip", ip_of(request))
    # The invitation a `next` link leads to is named on the page, so the invitee knows why they are here.
    invitation = invitation_in(safe_next(request))
    response = auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True,
                                            extra_context={"invitation": invitation})(request)
    if tried and not request.user.is_authenticated:
        tally(request, "sign-in-failures-ip", ip_of(request))
    return response


class SignOutView(auth_views.LogoutView):
    """Django's sign-out (POST only), saying that it happened on the sign-in page it leads to."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset (the same answer whether or not an account has the address), rate limited."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        spend(self.request, "password-reset-ip", ip_of(self.request))
        spend(self.request, "password-reset-address", "address:" + form.cleaned_data["email"].strip().lower())
        return super().form_valid(form)


# --- home and profile ----------------------------------------------------------------------------


@require_GET
def home(request):
    project = ensure_personal_project(user=request.user)
    last = request.session.get("last_project")
    if last and request.user.memberships.filter(project__slug=last).exists():
        return redirect("generations:home", slug=last)
    return redirect(project)


@require_http_methods(["GET", "POST"])
def profile(request):
    """Name and address. A new address is mailed a link and changes only when it is opened (?confirm=…)."""
    token = request.POST["confirm"] if "confirm" in request.POST else request.GET.get("confirm")
    if token is not None:
        return _confirm_address(request, token)
    if request.method == "POST" and "send_confirmation" in request.POST:
        spend(request, "address-links-person", person_of(request))
        emails.send_address_link(email=request.user.email,
                                 token=links.address_token(user=request.user, email=request.user.email))
        messages.success(request, f"We sent a link to {request.user.email}. Open it to confirm your address.")
        return redirect(safe_next(request) or "accounts:profile")
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        email = form.cleaned_data["email"]
        if email == request.user.email.lower():
            messages.success(request, "Your profile is saved.")
        else:
            spend(request, "address-links-person", person_of(request))
            if User.objects.filter(email__iexact=email).exists():
                emails.send_address_notice(email=email)
            else:
                emails.send_address_link(email=email, token=links.address_token(user=request.user, email=email))
            messages.success(request, f"Your profile is saved. We sent a link to {email}: your address changes "
                                      "to it when you open the link.")
        return redirect("accounts:profile")
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "accounts/profile.html", {"form": form}, status=status)


def _confirm_address(request, token: str):
    try:
        email = links.read_address_token(token, user=request.user)
    except links.LinkError as exc:
        return TemplateResponse(request, "accounts/confirm_address.html", {"error": str(exc)}, status=400)
    if request.method == "POST":
        try:
            confirm_address(user=request.user, email=email)
        except AccountError as exc:
            return TemplateResponse(request, "accounts/confirm_address.html", {"error": str(exc)}, status=409)
        messages.success(request, f"Your email address is now {email}, confirmed.")
        return redirect("accounts:profile")
    return TemplateResponse(request, "accounts/confirm_address.html", {"email": email, "token": token,
                                                                       "cancel_url": reverse("accounts:profile")})
