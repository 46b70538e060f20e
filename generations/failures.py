"""Runway's failure codes, the family each belongs to, and the one message a person sees for it."""

from __future__ import annotations

# CONTRACT §3.2: moderation codes name SAFETY; input problems start ASSET or INPUT
# (an INTERNAL in the name is Runway's own fault, whatever the prefix).
FAILURE_MESSAGES = {
    "safety": "Runway's content moderation rejected this request. Change the prompt or the inputs — "
    "sending the same request again will be rejected again.",
    "input": "Runway could not use one of the inputs (its format, size or length). "
    "Try another file or different settings.",
    "internal": "Runway had an internal problem making this. Trying again usually works.",
}


def failure_family(code: str) -> str:
    """"safety", "input" or "internal" for a failure code; "" for none."""
    code = code or ""
    if "SAFETY" in code:
        return "safety"
    if code.startswith(("ASSET", "INPUT")) and "INTERNAL" not in code:
        return "input"
    return "internal" if code else ""


def human_failure(code: str, fallback: str = "") -> str:
    """The message a person sees for a Runway failure code."""
    return FAILURE_MESSAGES.get(failure_family(code)) or fallback or FAILURE_MESSAGES["internal"]
