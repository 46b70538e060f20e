"""Links that prove a person holds an email address: finishing a sign-up, confirming or changing an address.

A link carries what it is for, signed with SECRET_KEY and dated (django.core.signing), so
nothing is stored until it comes back: a sign-up reserves no username and no address before
its link is opened, and nobody can claim an address without reading its mail. Links work for
ADDRESS_LINK_MAX_AGE seconds. Opening one (GET) only shows what it would do; the change is a
POST, so a mail scanner that follows links changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SIGN_UP_SALT = "accounts.links.sign-up"
ADDRESS_SALT = "accounts.links.address"


class LinkError(ValueError):
    """A link that cannot be used; the message is for the person holding it."""


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    next_url: str


def _load(token: str, salt: str) -> dict:
    if not token or len(token) > 2000:
        raise LinkError("This link is not valid. Copy the whole link from the email, or start again.")
    try:
        data = signing.loads(token, salt=salt, max_age=settings.ADDRESS_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkError("This link has expired. Start again to get a new one.") from None
    except signing.BadSignature:
        raise LinkError("This link is not valid. Copy the whole link from the email, or start again.") from None
    if not isinstance(data, dict):
        raise LinkError("This link is not valid. Copy the whole link from the email, or start again.")
    return data


def sign_up_token(*, username: str, email: str, next_url: str = "") -> str:
    """The token of the link that finishes a sign-up for `email`."""
    return signing.dumps({"u": username, "e": email, "n": next_url}, salt=SIGN_UP_SALT, compress=True)


def read_sign_up_token(token: str) -> SignUp:
    """What a sign-up link is for; LinkError when it is forged, mangled or expired."""
    data = _load(token, SIGN_UP_SALT)
    try:
        return SignUp(username=str(data["u"]), email=str(data["e"]), next_url=str(data.get("n") or ""))
    except KeyError:
        raise LinkError("This link is not valid. Copy the whole link from the email, or start again.") from None


def address_token(*, user, email: str) -> str:
    """The token of the link that makes `email` the confirmed address of `user`."""
    return signing.dumps({"p": user.pk, "e": email, "was": user.email}, salt=ADDRESS_SALT, compress=True)


def read_address_token(token: str, *, user) -> str:
    """The address a link confirms for `user`; LinkError when it is not theirs, out of date or expired."""
    data = _load(token, ADDRESS_SALT)
    if data.get("p") != user.pk:
        raise LinkError("This link is for another account. Sign in as the person it was sent to.")
    email = str(data.get("e") or "")
    if user.email.lower() not in (str(data.get("was") or "").lower(), email.lower()):
        raise LinkError("This link is out of date: your address changed after it was sent.")
    return email
