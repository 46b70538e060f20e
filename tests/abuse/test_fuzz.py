"""Hostile values on every URL: in its path, its query and its form, for anonymous, member and owner.

Hypothesis picks, for each named URL, which parameters to send and what to put in them
(unicode digits, 20- and 5,000-digit numbers, NUL, newlines, 100 kB strings, `nan`,
`1e400`, empty...), and what to put in the URL's own parts. Whatever it sends, the
answer is never a server error: the test client re-raises the exception behind a 500, so
a failure shows the traceback and Hypothesis shrinks it to the smallest request.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runway import catalog
from tests.abuse.test_every_url import EXPECTATIONS, ROLE_RANK, objects  # noqa: F401  (fixture)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HOSTILE = [
    "²", "٣", "١٢", "𝟗", "9" * 20, "-" + "9" * 20, "9" * 5000, "\x00", "a\x00b", "line\nbreak", "\r\n",
    "x" * 100_000, "nan", "NaN", "inf", "-inf", "1e400", "-1e400", "", " ", "0", "-1", "1.5", " 7 ",
    "true", "[]", "{}", "null", "%00", "../../etc/passwd", "<script>alert(1)</script>", "'; --", "é", "\ufeff1",
    "2026-02-30", "0000-00-00", "9999-12-31", "1" * 19,
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
# Every parameter a view reads, plus every field of the generation forms.
NAMES = sorted({
    "decision", "endpoint", "favourite", "follow", "from", "ids", "kind", "model", "next", "note", "page",
    "results", "reuse", "show", "since", "status", "tags", "tier", "until", "usage", "q", "member", "tag",
    "favourites", "sort", "name", "who", "role", "amount", "below", "username", "email", "password",
    "password1", "password2", "old_password", "new_password1", "new_password2", "first_name", "last_name",
    "file", "day", "output", "asset", "confirm",
    *(f.name for m in catalog.all_models() for f in m.fields),
})
FORM_FIELDS = sorted({f.name for m in catalog.all_models() for f in m.fields})
# The parameters each family of views reads, so most requests aim at something that is parsed; a URL
# whose family is not listed gets every name above. The first entry whose key starts the URL's name wins.
SHARED = ["page", "next", "confirm"]
AIMED = {
    "generations:": ["endpoint", "model", "reuse", "follow", "from", "page", "status", "show", *FORM_FIELDS],
    "gallery:": ["q", "kind", "endpoint", "model", "member", "since", "until", "tag", "favourites", "sort", "page",
                 "ids", "tags", "favourite", "confirm", "next", "group", "show", "name", "text", "days", "board",
                 "target"],
    "credits:": ["amount", "below", "since", "until", "tier", "page", "day", "usage", "results", "note", "next"],
    "accounts:": ["username", "email", "password", "password1", "password2", "old_password", "new_password1",
                  "new_password2", "first_name", "last_name", "next", "confirm", "send_confirmation", "token"],
    "projects:": ["name", "who", "role", "decision", "next", "confirm", "credit_limit", "expires_on", "rate_limit"],
    "assets:": ["file", "page", "kind", "next", "confirm"],
    # The generation form saved as a preset reads every field a model has.
    "presets:save_form": ["endpoint", "model", "preset_name", *FORM_FIELDS, *SHARED],
    "presets:": ["q", "name", "prompt", "generation", "p0", "p1", *SHARED],
    "library:": ["name", "description", "prompt", "design_model", "sample", "personality", "voice", "start_script",
                 "image", "image_processing", "optimize_for", "model_mode", "model_ids", "video_cap", "image_cap",
                 "audio_cap", "fallback_on_capacity", *SHARED],
    "webhooks:": ["url", "events", "active", *SHARED],
    "notifications:": ["email_digest", "browser", *SHARED],
    # The API reads only its JSON body (tests/api/test_hostile_input.py sends it hostile bodies).
    "api:": SHARED,
    "share": ["download", *SHARED],
    "board_share": ["download", *SHARED],
    "invitation": ["token", "decision", "username", "email", "password1", "password2", *SHARED],
    "project_list": ["name", *SHARED],
    "home": SHARED,
}


def names_for(url_name: str) -> list[str]:
    return next((names for prefix, names in AIMED.items() if url_name.startswith(prefix)), NAMES)


def params_for(url_name: str):
    hostile = st.one_of(st.sampled_from(HOSTILE), st.sampled_from(HOSTILE), values)
    return st.dictionaries(st.sampled_from(names_for(url_name)), st.one_of(hostile, st.lists(hostile, max_size=3)),
                           max_size=5)
RANGES = ["bytes=" + "9" * 5000, "bytes=0-" + "9" * 5000, "bytes=5-1", "bytes=-0", "bytes=0-", "bytes=1-2,3-4",
          "bytes=x-y", "items=0-1", "bytes=99999999999999999999-", "bytes=-" + "9" * 30, "bytes=²-", "bytes=\x00"]
headers = st.fixed_dictionaries({}, optional={
    "HTTP_RANGE": st.one_of(st.sampled_from(RANGES), st.text(max_size=30).map(lambda t: "bytes=" + t)),
    "HTTP_HX_REQUEST": st.just("true"),
})

def part_values(kind: str):
    if kind == "int":
        return st.sampled_from(["0", "1", "9" * 19, "9" * 20, "9" * 5000, "00001"])
    if kind == "slug":
        return st.sampled_from(["x", "a" * 300, "moonshot-" + "9" * 30])
    return values.filter(lambda v: v and "/" not in v)


@pytest.fixture
def people(project, owner, editor):
    return {"anonymous": None, "member": editor, "owner": owner}


def real_url(name: str, project, builders, user) -> tuple[str, dict]:
    access, builder, _ = EXPECTATIONS[name]
    kwargs = {"slug": project.slug} if access in ROLE_RANK else {}
    if builder:
        kwargs.update(builders[builder](user))
    return reverse(name, kwargs=kwargs), kwargs


KINDS = {"token": "str", "uidb64": "str", "day": "str", "slug": "slug"}


def hostile_url(url: str, kwargs: dict, data) -> str:
    """The URL with some of its own parts replaced by hostile values its converter still accepts."""
    for key, value in kwargs.items():
        if data.draw(st.booleans(), label=f"replace {key}"):
            kind = KINDS.get(key, "int")
            new = data.draw(part_values(kind), label=key)
            url = url.replace(f"/{quote(str(value), safe='')}/", f"/{quote(new, safe='')}/", 1)
            url = url.replace(f"/{value}/", f"/{quote(new, safe='')}/", 1)
    return url


NAMES_TO_FUZZ = sorted(n for n in EXPECTATIONS if n != "accounts:logout")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES_TO_FUZZ)
def test_no_hostile_request_gets_a_server_error(name, project, people, objects, chaos_report):  # noqa: F811
    access, _, methods = EXPECTATIONS[name]

    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(who=st.sampled_from(sorted(people)), method=st.sampled_from(methods), query=params_for(name),
           form=params_for(name),
           extra=headers, data=st.data())
    def attempt(who, method, query, form, extra, data):
        # Each request starts from the same rows: what one changed is rolled back before the next.
        with transaction.atomic():
            send(who, method, query, form, extra, data)
            transaction.set_rollback(True)

    def send(who, method, query, form, extra, data):
        user = people[who]
        url, kwargs = real_url(name, project, objects, user)
        url = hostile_url(url, kwargs, data)
        client: Client = client_for(user)
        if method == "GET":
            response = client.get(url, query, **extra)
        else:
            response = client.post(url + "?" + "&".join(f"{quote(k)}={quote(str(v))}" for k, v in query.items()
                                                        if isinstance(v, str)), form, **extra)
        chaos_report.add("fuzzed_requests")
        assert response.status_code < 500, (who, method, url, query, form, extra, response.status_code)

    attempt()


#: One value of each hostile class, for the sweep below.
SWEEP = ["²", "٣", "9" * 20, "9" * 5000, "a\x00b", "line\nbreak", "x" * 100_000, "nan", "1e400", "", "-1", "2026-02-30"]
NUMERIC = ["²", "٣", "9" * 20, "9" * 5000, "a\x00b", "1e400"]


@pytest.mark.slow
@pytest.mark.strictest_db
@pytest.mark.parametrize("name", NAMES_TO_FUZZ)
def test_every_parameter_with_every_hostile_class_gets_no_server_error(name, project, owner, objects):  # noqa: F811
    """Each parameter the view reads, alone, with one value of each class, by the person with most rights."""
    tries = [({param: value}, {}) for param in names_for(name) for value in SWEEP]
    if any(word in name for word in ("file", "media", "thumb", "poster")):
        tries += [({}, {"HTTP_RANGE": header}) for header in RANGES]
    _sweep(name, project, owner, objects, tries)


@pytest.mark.slow
@pytest.mark.every_model
@pytest.mark.parametrize("name", ["generations:new", "generations:estimate"])
def test_every_field_of_every_model_with_every_numeric_class_gets_no_server_error(name, project, owner,
                                                                                  objects):  # noqa: F811
    """Every field of every model, with its model chosen, so each form's own parsing is reached."""
    tries = [({"endpoint": m.endpoint, "model": m.id, f.name: value}, {})
             for m in catalog.all_models() for f in m.fields if f.kind != "text" for value in NUMERIC]
    _sweep(name, project, owner, objects, tries)


def _sweep(name, project, owner, rows, tries) -> None:
    """Send each (query or form, headers) of `tries` by every method the URL takes; no answer is a 500."""
    access, _, methods = EXPECTATIONS[name]
    user = None if access == "public" else owner
    client = client_for(user)
    failures = []
    for method in methods:
        for data, extra in tries:
            with transaction.atomic():
                url, _ = real_url(name, project, rows, user)
                send = client.get if method == "GET" else client.post
                try:
                    code = send(url, data, **extra).status_code
                except Exception as exc:  # noqa: BLE001 — the test client re-raises what made a 500
                    code = f"500 {type(exc).__name__}: {str(exc)[:80]}"
                transaction.set_rollback(True)
            if not isinstance(code, int) or code >= 500:
                failures.append((method, {k: v[:12] for k, v in data.items()}, extra.get("HTTP_RANGE", "")[:20], code))
    assert not failures, failures
