"""The signed-in person's balance for the top bar of every page."""

from django.utils.functional import SimpleLazyObject

from . import ledger


def balance(request) -> dict:
    """`credit_account`: the person's account, read once per request and only if a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def account():
        # Cached on the request: a page and its error page, or several renders, read it once.
        if not hasattr(request, "_credit_account"):
            request._credit_account = ledger.account_for(user)
        return request._credit_account

    return {"credit_account": SimpleLazyObject(account)}
