"""The gallery grid: filters, search, sort, pagination, the htmx partial, access and query counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery import actions
from tests.conftest import client_for
from tests.gallery.conftest import copies_of

pytestmark = pytest.mark.django_db


def url(project, **query) -> str:
    base = reverse("gallery:index", args=[project.slug])
    if not query:
        return base
    from urllib.parse import urlencode

    return f"{base}?{urlencode(query, doseq=True)}"


def shown(response) -> list[int]:
    return [o.pk for o in response.context["page"].object_list]


def outside_templates(html: str) -> str:
    """The page as the browser renders it: a <template>'s content is inert until the lightbox uses it."""
    return re.sub(r"<template\b.*?</template>", "", html, flags=re.S)


def cards_of(html: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(0) for m in
            re.finditer(r'<li class="media-card gallery-card" id="output-(\d+)".*?</li>', html, flags=re.S)}


def test_cards_show_posters_without_native_players(project, editor, viewer, make_output):
    image = make_output(project, editor, "image", "a lighthouse at dusk")
    video = make_output(project, editor, "video", "waves on rocks")
    audio = make_output(project, editor, "audio", "seagulls")
    response = client_for(viewer).get(url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert set(shown(response)) == {image.pk, video.pk, audio.pk}
    rendered = outside_templates(html)
    assert "<video" not in rendered and "<audio" not in rendered and " controls" not in rendered
    cards = cards_of(html)
    for output in (image, video, audio):
        card = outside_templates(cards[output.pk])
        assert f'<img src="{reverse("generations:output_thumb", args=[project.slug, output.pk])}"' in card
        assert 'loading="lazy"' in card
    # A video card may play its preview, muted, on hover; the lightbox holds the real players.
    assert f'data-hover-src="{reverse("generations:output_play", args=[project.slug, video.pk])}"' in cards[video.pk]
    assert "<video controls" in cards[video.pk] and "<audio controls" in cards[audio.pk]
    assert "a lighthouse at dusk" in html


def test_a_card_has_one_button_and_a_menu_for_the_rest(project, editor, make_output):
    out = make_output(project, editor, "image", "a kite")
    card = outside_templates(cards_of(client_for(editor).get(url(project)).content.decode())[out.pk])
    actions_row = card[card.index('class="row card-actions"'):]
    before_menu = actions_row[:actions_row.index("<details")]
    assert before_menu.count('class="btn') == 1 and "Download" in before_menu
    menu = actions_row[actions_row.index("<details"):actions_row.index("</details>")]
    assert "<summary" in menu and "Favourite" in menu and "Delete…" in menu and "Open its page" in menu


def test_cards_are_titled_by_prompt_else_by_what_they_were_made_from(project, editor, viewer, make_output,
                                                                    tmp_path):
    from tests.factories import make_asset

    fox = make_asset(project, editor, "image 320x180", tmp_path)
    fox.name = "fox.png"
    fox.save(update_fields=["name"])
    upscale = make_output(project, editor, "image", "", endpoint="image_upscale",
                          model="magnific_precision_upscaler_v2", params={})
    upscale.generation.inputs.add(fox)
    speech = make_output(project, editor, "audio", "", endpoint="text_to_speech", model="eleven_v3", params={})
    routed = make_output(project, editor, "video", "a routed take", endpoint="generate_video", model="gen4.5")
    html = client_for(viewer).get(url(project)).content.decode()
    assert "(no prompt)" not in html
    cards = cards_of(html)
    assert "Upscale of fox.png" in cards[upscale.pk]
    assert "Text → Speech · ElevenLabs v3" in cards[speech.pk]
    assert "Gen-4.5 (chosen by Runway)" in cards[routed.pk] and "gen4.5" not in outside_templates(cards[routed.pk])


def test_the_lightbox_slide_tells_prompt_model_seed_cost_author_and_date(project, editor, viewer, make_output):
    seeded = make_output(project, editor, "image", "a fox", params={"prompt_text": "a fox", "seed": 4242})
    pending = make_output(project, editor, "video", "a wave", cost_credits=None, estimated_credits=40,
                          task_json={"id": "t", "seed": 99})
    cards = cards_of(client_for(viewer).get(url(project)).content.decode())
    slide = cards[seeded.pk][cards[seeded.pk].index("<template data-slide>"):]
    for text in ("a fox", "Gen-4 Image", "<dd>4242</dd>", "5 credits", editor.display_name,
                 seeded.created_at.strftime("%Y")):
        assert text in slide, text
    slide = cards[pending.pk][cards[pending.pk].index("<template data-slide>"):]
    assert "<dd>99</dd>" in slide and "about 40 credits (estimate)" in slide


def test_empty_gallery_says_so(project, viewer, media_root):
    response = client_for(viewer).get(url(project))
    assert response.status_code == 200
    assert "No outputs yet" in response.content.decode()


def test_search_finds_last_weeks_video_by_a_word_of_its_prompt(project, editor, viewer, make_output):
    week_ago = timezone.now() - timedelta(days=7)
    wanted = make_output(project, editor, "video", "A Glacier calving into the sea", created_at=week_ago)
    make_output(project, editor, "video", "a desert at noon")
    make_output(project, editor, "image", "glacial blue ice")  # "glacier" is not in it
    response = client_for(viewer).get(url(project, q="glacier"))
    assert shown(response) == [wanted.pk]
    # Every word must match.
    assert shown(client_for(viewer).get(url(project, q="glacier sea"))) == [wanted.pk]
    assert shown(client_for(viewer).get(url(project, q="glacier noon"))) == []


def test_filters_by_kind_endpoint_model_member_dates_favourites_and_tag(
        project, owner, editor, viewer, make_output):
    now = timezone.now()
    image = make_output(project, editor, "image", "one", created_at=now - timedelta(days=10))
    video = make_output(project, owner, "video", "two", created_at=now - timedelta(days=3))
    audio = make_output(project, editor, "audio", "three")
    actions.set_favourite(output=video, favourite=True)
    actions.set_tags(output=audio, names=["keeper"])
    client = client_for(viewer)
    assert shown(client.get(url(project, kind="image"))) == [image.pk]
    assert shown(client.get(url(project, endpoint="text_to_video"))) == [video.pk]
    assert shown(client.get(url(project, model="eleven_text_to_sound_v2"))) == [audio.pk]
    assert set(shown(client.get(url(project, member=editor.pk)))) == {image.pk, audio.pk}
    since = (now - timedelta(days=5)).date().isoformat()
    until = (now - timedelta(days=1)).date().isoformat()
    assert shown(client.get(url(project, since=since, until=until))) == [video.pk]
    assert shown(client.get(url(project, favourites="on"))) == [video.pk]
    assert shown(client.get(url(project, tag="keeper"))) == [audio.pk]


def test_sorts(project, editor, viewer, make_output):
    now = timezone.now()
    old = make_output(project, editor, "video", "old", created_at=now - timedelta(days=2))
    new = make_output(project, editor, "image", "new", created_at=now)
    client = client_for(viewer)
    assert shown(client.get(url(project)))[:2] == [new.pk, old.pk]
    assert shown(client.get(url(project, sort="oldest")))[:2] == [old.pk, new.pk]
    assert shown(client.get(url(project, sort="longest")))[0] == old.pk


def test_pagination_keeps_the_filters(project, editor, viewer, make_output):
    for i in range(26):
        make_output(project, editor, "image", f"tile {i}")
    response = client_for(viewer).get(url(project, kind="image"))
    assert len(shown(response)) == 24
    assert "kind=image&amp;page=2" in response.content.decode()
    second = client_for(viewer).get(url(project, kind="image", page=2))
    assert len(shown(second)) == 2


def test_htmx_gets_the_results_partial(project, editor, viewer, make_output):
    make_output(project, editor, "image", "a kite")
    response = client_for(viewer).get(url(project, q="kite"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html and "a kite" in html


def test_bad_filters_are_a_400_with_a_message_showing_everything(project, editor, viewer, make_output):
    out = make_output(project, editor)
    response = client_for(viewer).get(url(project, kind="hologram", since="not-a-date"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "not understood" in html
    assert shown(response) == [out.pk]
    response = client_for(viewer).get(url(project, since="2025-05-02", until="2025-05-01"))
    assert response.status_code == 400
    assert "after" in response.content.decode()


def test_other_projects_outputs_never_show(project, editor, stranger, viewer, make_output):
    from accounts.models import Project

    theirs = make_output(Project.objects.for_user(stranger).get(), stranger, prompt="secret plan")
    mine = make_output(project, editor)
    response = client_for(viewer).get(url(project, q=""))
    assert shown(response) == [mine.pk]
    assert "secret plan" not in response.content.decode()
    assert theirs.pk not in shown(response)


def test_stranger_gets_404_and_anonymous_is_sent_to_sign_in(project, stranger, media_root):
    assert client_for(stranger).get(url(project)).status_code == 404
    response = client_for(None).get(url(project))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_constant_queries_per_page(project, editor, viewer, make_output, django_assert_max_num_queries):
    client = client_for(viewer)
    counts = []
    made = 0
    for total in (5, 50):
        while made < total:
            out = make_output(project, editor, ("image", "video", "audio")[made % 3], f"prompt {made}")
            if made % 2:
                actions.set_tags(output=out, names=["a", f"t{made % 5}"])
            made += 1
        for query in ({}, {"q": "prompt", "tag": "a"}):
            # Ten for the page, one for the top bar (the balance and the unread notifications).
            with django_assert_max_num_queries(11) as ctx:
                response = client.get(url(project, **query))
            assert response.status_code == 200
            counts.append(len(ctx.captured_queries))
    assert counts[:2] == counts[2:], counts


def test_search_on_postgresql_understands_word_forms(project, editor, viewer, make_output):
    from django.db import connection

    boat = make_output(project, editor, "video", "The boat sails past the harbour lights")
    make_output(project, editor, "video", "a quiet forest")
    found = shown(client_for(viewer).get(url(project, q="sailing boats")))
    # Full-text search stems words on PostgreSQL; elsewhere every word must appear as typed.
    assert found == ([boat.pk] if connection.vendor == "postgresql" else [])
    assert shown(client_for(viewer).get(url(project, q="sails boat"))) == [boat.pk]


def _filter_form_trigger(html: str) -> str:
    import re

    form = re.search(r'<form[^>]*id="filters"[^>]*>', html)
    assert form, "the filter form has an id"
    return re.search(r'hx-trigger="([^"]*)"', form.group(0)).group(1)


def test_only_the_filter_forms_own_fields_reload_the_results(project, editor, viewer, make_output):
    make_output(project, editor)
    trigger = _filter_form_trigger(client_for(viewer).get(url(project)).content.decode())
    # A "from:" selector listens on every matching element of the page: the cards' and
    # "Select all" checkboxes too. Events bubbling up to the form come from its fields only.
    assert "from:" not in trigger, trigger
    assert "change" in trigger and "submit" in trigger


@pytest.mark.parametrize("query", [{"since": "2025-05-02", "until": "2025-05-01"}, {"kind": "hologram"}])
def test_refused_filters_over_htmx_name_where_the_message_goes(project, editor, viewer, make_output, query):
    make_output(project, editor)
    response = client_for(viewer).get(url(project, **query), headers={"HX-Request": "true"})
    assert response.status_code == 400
    # htmx swaps no 4xx on its own; these headers are the server saying "show this refusal there".
    assert response["HX-Retarget"] == "#results"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert 'role="alert"' in html and "not understood" in html


def test_a_refused_tag_over_htmx_names_where_the_message_goes(project, editor, make_output):
    out = make_output(project, editor)
    response = client_for(editor).post(reverse("gallery:tags", args=[project.slug, out.pk]),
                                       {"tags": "<b>bold</b>"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#tags" and response["HX-Reswap"] == "outerHTML"
    assert "be a tag: use letters" in response.content.decode()


def test_prompt_search_is_served_by_indexes_on_postgresql(project, editor, viewer, make_output):
    from django.db import connection

    from gallery import search
    from generations.models import Generation

    make_output(project, editor, "image", "The boat sails past the harbour lights")
    found = search.search_outputs(project=project, filters=search.Filters(text="sailing harbour"))
    assert list(found.values_list("generation__prompt", flat=True)) == (
        ["The boat sails past the harbour lights"] if connection.vendor == "postgresql" else [])
    if connection.vendor != "postgresql":
        # SQLite matches every word as typed, by reading the project's prompts: no index to keep.
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'generation_prompt_%'")
            assert cursor.fetchall() == []
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the indexes *can* serve
    plan = search.prompt_matches(Generation.objects.order_by(), "sailing harbour", generation="").explain()
    # Both halves of the match (the words as typed, and their English forms) come from an index,
    # the second from the stored vector: no vector is computed per row.
    assert "generation_prompt_words" in plan and "generation_prompt_search" in plan, plan
    assert "to_tsvector" not in plan, plan
    # The database keeps the vector with the prompt, however the row is written.
    Generation.objects.update(prompt="Gulls over the pier")
    assert search.prompt_matches(Generation.objects.all(), "gull", generation="").count() == 1


def test_a_search_with_few_matches_keeps_every_sort_order(project, editor, viewer, make_output):
    made = [make_output(project, editor, "image", f"a heron at dawn, take {i}",
                        created_at=datetime(2026, 11, 1 + i, tzinfo=UTC)) for i in range(3)]
    make_output(project, editor, "image", "a quiet forest")
    client = client_for(viewer)
    newest = [o.pk for o in reversed(made)]
    assert shown(client.get(url(project, q="heron"))) == newest
    assert shown(client.get(url(project, q="heron", sort="oldest"))) == newest[::-1]
    assert shown(client.get(url(project, q="heron", page=1))) == newest  # the page of a search is ordered the same


def test_a_search_with_over_a_thousand_matches_counts_a_thousand_and_says_there_are_more(project, editor, viewer,
                                                                                          make_output):
    copies_of(make_output(project, editor, "image", "a heron at dawn"), 1000)
    make_output(project, editor, "image", "an owl at dusk")
    client = client_for(viewer)
    response = client.get(url(project, q="heron"))
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == 1000 and page.paginator.num_pages == 42
    assert "More than 1,000 outputs match" in response.content.decode()
    last = client.get(url(project, q="heron", page=99)).context["page"]
    assert last.number == 42 and len(last.object_list) == 1000 - 41 * 24
    # Without a search, and with one that matches fewer, every match is counted and nothing more is said.
    everything = client.get(url(project))
    assert everything.context["page"].paginator.count == 1002
    assert "More than" not in everything.content.decode()
    assert client.get(url(project, q="owl")).context["page"].paginator.count == 1


def test_a_search_pages_in_order_and_on_sqlite_reads_the_prompts_once(project, editor, viewer, make_output):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = make_output(project, editor, "image", "a heron at dawn", created_at=datetime(2026, 11, 1, tzinfo=UTC))
    copies = copies_of(first, 29)
    for n, output in enumerate(copies):  # each copy a day newer than the one before
        type(output).objects.filter(pk=output.pk).update(created_at=datetime(2026, 11, 2, tzinfo=UTC) + timedelta(days=n))
    make_output(project, editor, "image", "an owl at dusk")
    newest = [o.pk for o in reversed([first, *copies])]
    client = client_for(viewer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(project, q="heron", page=2))
    searching = [q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"].upper()]
    # SQLite has no index for prompts: one read gives the count and the page's ids.
    assert len(searching) == (1 if connection.vendor == "sqlite" else 2), searching
    assert response.context["page"].paginator.count == 30
    assert shown(response) == newest[24:]
    assert shown(client.get(url(project, q="heron", sort="oldest", page=2))) == newest[::-1][24:]
