"""Sign-up, profile and the landing redirect; sign-in and passwords use Django's views."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from core.http import safe_next

from .actions import ensure_personal_project
from .forms import ProfileForm, SignUpForm


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        ensure_personal_project(user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Takes, {user.username}. This is your personal space.")
        return redirect(safe_next(request) or "home")
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(
        request, "accounts/signup.html", {"form": form, "next": safe_next(request)}, status=status
    )


@require_GET
def home(request):
    project = ensure_personal_project(user=request.user)
    last = request.session.get("last_project")
    if last and request.user.memberships.filter(project__slug=last).exists():
        return redirect("generations:home", slug=last)
    return redirect(project)


@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "accounts/profile.html", {"form": form}, status=status)
