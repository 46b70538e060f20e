"""The mails Takes sends about accounts and invitations.

Every subject and every sender is fixed text of ours (DEFAULT_FROM_EMAIL): nothing a person
types reaches a header. What people choose (an inviter's name, a project's name) appears only
in the body, on one line, and escaped in the HTML part.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Invitation, User

SUBJECTS = {
    "sign_up_link": "Finish creating your Takes account",
    "sign_up_notice": "Someone tried to create a Takes account with your address",
    "address_link": "Confirm your email address for Takes",
    "address_notice": "Someone tried to use your address on Takes",
    "invitation": "You are invited to a project on Takes",
}


def absolute(path: str) -> str:
    """An absolute link to `path` on this site, for mails."""
    return settings.SITE_URL.rstrip("/") + path


def one_line(text: str, limit: int = 120) -> str:
    """Text someone typed, fit for one line of a mail: whitespace and control characters become spaces."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:limit]


def _send(kind: str, to: str, context: dict) -> None:
    body = render_to_string(f"accounts/mail/{kind}.txt", context)
    send_mail(SUBJECTS[kind], body, None, [to])


def send_sign_up_link(*, email: str, token: str) -> None:
    """Mail the link that finishes a sign-up to the address it is for."""
    link = absolute(reverse("accounts:signup") + "?" + urlencode({"token": token}))
    _send("sign_up_link", email, {"link": link, "hours": settings.ADDRESS_LINK_MAX_AGE // 3600})


def send_sign_up_notice(*, user: User) -> None:
    """Tell the owner of an address that someone tried to sign up with it (no way in for that someone)."""
    _send("sign_up_notice", user.email, {
        "username": user.username,
        "sign_in": absolute(reverse("accounts:login")),
        "reset": absolute(reverse("accounts:password_reset")),
    })


def send_address_link(*, email: str, token: str) -> None:
    """Mail the link that confirms `email` as someone's address."""
    link = absolute(reverse("accounts:profile") + "?" + urlencode({"confirm": token}))
    _send("address_link", email, {"link": link, "hours": settings.ADDRESS_LINK_MAX_AGE // 3600})


def send_address_notice(*, email: str) -> None:
    """Tell the owner of an address that another account tried to take it."""
    _send("address_notice", email, {"reset": absolute(reverse("accounts:password_reset"))})


def send_invitation(*, invitation: Invitation, token: str) -> str:
    """Mail the invitation's link to its address (if it has one); returns the link."""
    link = absolute(reverse("invitation", args=[token]))
    if not invitation.email:
        return link
    inviter = invitation.invited_by
    context = {
        "inviter": one_line(inviter.display_name) if inviter else "A project owner",
        "project": one_line(invitation.project.name),
        "role": invitation.get_role_display().lower(),
        "link": link,
        "expires": invitation.expires_at,
    }
    message = EmailMultiAlternatives(SUBJECTS["invitation"],
                                     render_to_string("accounts/mail/invitation.txt", context),
                                     None, [invitation.email])
    message.attach_alternative(render_to_string("accounts/mail/invitation.html", context), "text/html")
    message.send()
    return link
