"""`{% credit_notices %}`: the signed-in person's unread credit notices, for the base template."""

from django import template

from credits.models import Notice

register = template.Library()

NOTICES_SHOWN = 3


@register.inclusion_tag("credits/notices.html", takes_context=True)
def credit_notices(context) -> dict:
    """Unread notices of the request's user (none for anonymous visitors)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"credit_notices": [], "request": request}
    counted = context.get("unread_credit_notices")  # the top bar's one query counted them
    if counted is not None and not counted:
        return {"credit_notices": [], "request": request}
    return {"credit_notices": list(Notice.objects.unread_for(user)[:NOTICES_SHOWN]), "request": request,
            "csrf_token": context.get("csrf_token")}
