"""`manage.py api_token USERNAME PROJECT_SLUG`: make a personal API token and print it, for automation."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.actions import ProjectError, create_api_token
from accounts.models import Project, User


class Command(BaseCommand):
    help = "Make a personal API token for USERNAME in PROJECT_SLUG and print its secret (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("project_slug")
        parser.add_argument("--name", default="", help="What the token is for (default: made by manage.py)")
        parser.add_argument("--credit-limit", type=int, default=None, help="The most the token may spend")
        parser.add_argument("--days", type=int, default=None, help="Expire after this many days")
        parser.add_argument("--rate", default="", help="Requests allowed, e.g. 60/m (default: API_RATE_LIMIT)")

    def handle(self, *args, username: str, project_slug: str, name: str, credit_limit, days, rate, **options):
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise CommandError(f"No person is called {username!r}.")
        project = Project.objects.filter(slug=project_slug).first()
        if project is None:
            raise CommandError(f"No project has the slug {project_slug!r}.")
        expires = timezone.now() + timedelta(days=days) if days else None
        try:
            _token, raw = create_api_token(user=user, project=project, name=name or "made by manage.py",
                                           credit_limit=credit_limit, expires_at=expires, rate_limit=rate)
        except ProjectError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(raw)
