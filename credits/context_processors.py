"""The signed-in person's balance for the top bar of every page."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .models import Account


def balance(request) -> dict:
    """`credit_balance`: what the person can spend, read once per request and only if a page shows it.

    Read-only: a page view opens no account. One not open yet holds nothing but the starting
    grant it opens with (`ledger.account_for`), so that is what the person has.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def read() -> int:
        if not hasattr(request, "_credit_balance"):
            found = Account.objects.filter(user=user).values_list("balance", flat=True).first()
            request._credit_balance = settings.STARTING_CREDITS if found is None else found
        return request._credit_balance

    return {"credit_balance": SimpleLazyObject(read)}
