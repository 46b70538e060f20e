"""One channel per page: the queue and generation pages ask about their cards in one poll.

Everything here is real: generations are submitted and driven through the emulator, the
credits move through the ledger, and the pages and the update endpoint are read through the
test client like a browser reads them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import ledger
from credits.models import Hold, HoldState
from emulator.models import TIMINGS
from generations import cancel, run
from generations import submit as submitting
from generations.models import Generation, Status
from tests.conftest import client_for
from tests.factories import drive

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=10)


def submit(project, user, prompt="a lighthouse at dusk") -> Generation:
    return submitting.submit_generation(project=project, user=user, endpoint="text_to_image", model="gen4_image",
                                        params={"prompt_text": prompt, "ratio": "1920:1080"})


def queue_url(project) -> str:
    return reverse("generations:queue", args=[project.slug])


def updates_url(project) -> str:
    return reverse("generations:updates", args=[project.slug])


def detail_url(generation) -> str:
    return reverse("generations:detail", args=[generation.project.slug, generation.pk])


def page_state(body: str) -> list[str]:
    """What the page's one poll sends: each in-flight card's id and version."""
    return re.findall(r'<input type="hidden" name="card" value="([0-9]+:[0-9a-f]+)">', body)


def card_of(body: str, generation) -> str:
    """The markup of one card in a page or an answer."""
    found = re.search(rf'<article id="generation-{generation.pk}".*?</article>', body, re.S)
    assert found, f"no card for generation {generation.pk}"
    return found.group(0)


def shown_count(body: str) -> str:
    return re.search(r'name="shown" value="(\d+)"', body).group(1)


@pytest.fixture
def two_running(project, funded, runway_emulator, media_root):
    """Two generations of the owner's, submitted and waiting for their workers."""
    return submit(project, funded, "a harbour"), submit(project, funded, "a ferry")


# --- one poll per page -----------------------------------------------------------------------


def test_the_queue_polls_once_for_the_whole_page_not_once_per_card(owner_client, project, two_running):
    body = owner_client.get(queue_url(project)).content.decode()
    assert body.count('hx-trigger="every') == 1
    assert f'hx-get="{updates_url(project)}"' in body
    assert sorted(page_state(body)) == sorted(f"{g.pk}:" + re.search(
        r'data-version="([0-9a-f]+)"', card_of(body, g)).group(1) for g in two_running)
    for g in two_running:
        assert f'hx-get="{detail_url(g)}"' not in body


def test_the_generation_page_of_a_running_one_polls_the_same_channel(owner_client, project, two_running):
    first, _ = two_running
    body = owner_client.get(detail_url(first)).content.decode()
    assert body.count('hx-trigger="every') == 1 and f'hx-get="{updates_url(project)}"' in body
    assert page_state(body) == [page_state(card_of(body, first))[0]]


def test_a_page_with_nothing_in_flight_does_not_poll(owner_client, project, two_running):
    for g in two_running:
        drive(g)
    body = owner_client.get(queue_url(project)).content.decode()
    assert 'hx-trigger="every' not in body and not page_state(body)
    assert 'hx-trigger="every' not in owner_client.get(detail_url(two_running[0])).content.decode()


def test_the_update_answers_only_the_cards_that_changed_as_out_of_band_swaps(owner_client, project, two_running):
    done, waiting = two_running
    state = page_state(owner_client.get(queue_url(project)).content.decode())
    unchanged = owner_client.get(updates_url(project), {"card": state, "view": "feed"})
    assert unchanged.status_code == 200 and "<article" not in unchanged.content.decode()

    drive(done)
    answer = owner_client.get(updates_url(project), {"card": state, "view": "feed"})
    assert answer.status_code == 200  # the other card is still in flight: keep polling
    body = answer.content.decode()
    assert body.count("<article") == 1
    card = card_of(body, done)
    assert 'hx-swap-oob="true"' in card and "gen-tile" in card and "Done" in card
    assert f'id="generation-{waiting.pk}"' not in body
    assert not page_state(card), "a finished card is not asked about again"
    assert f"Generation #{done.pk}: done." in body  # said once, to the page's live region


def test_the_update_answers_286_once_nothing_on_the_page_is_in_flight(owner_client, project, two_running):
    state = page_state(owner_client.get(queue_url(project)).content.decode())
    for g in two_running:
        drive(g)
    answer = owner_client.get(updates_url(project), {"card": state, "view": "feed"})
    assert answer.status_code == 286
    assert answer.content.decode().count('hx-swap-oob="true"') == 2
    assert owner_client.get(updates_url(project)).status_code == 286  # a page asking about nothing


def test_the_generation_page_gets_its_full_card_back(owner_client, project, two_running):
    first, _ = two_running
    state = page_state(owner_client.get(detail_url(first)).content.decode())
    drive(first)
    body = owner_client.get(updates_url(project), {"card": state}).content.decode()
    card = card_of(body, first)
    assert 'class="card gen-card"' in card and "gen-outputs" in card


def test_the_queue_header_count_follows_the_cards(owner_client, project, two_running):
    page = owner_client.get(queue_url(project)).content.decode()
    assert "2 generations in progress" in page and shown_count(page) == "2"
    state = page_state(page)
    same = owner_client.get(updates_url(project), {"card": state, "shown": "2", "view": "feed"}).content.decode()
    assert "in-flight-count" not in same
    drive(two_running[0])
    body = owner_client.get(updates_url(project), {"card": state, "shown": "2", "view": "feed"}).content.decode()
    count = re.search(r'<span id="in-flight-count" hx-swap-oob="true">.*?</span>', body, re.S).group(0)
    assert "1 generation in progress" in count and shown_count(count) == "1"


def test_the_live_region_sits_outside_every_swapped_node(owner_client, project, two_running):
    for url in (queue_url(project), detail_url(two_running[0])):
        body = owner_client.get(url).content.decode()
        assert body.count("aria-live") == 1
        region = body.index('id="feed-news"')
        assert "aria-live" not in "".join(re.findall(r"<article.*?</article>", body, re.S))
        assert "aria-live" not in body[body.index('<section id="queue"'):] if "queue" in url else True
        assert body.rfind("<article", 0, region) == -1 or body.rfind("</article>", 0, region) > body.rfind(
            "<article", 0, region)


def test_update_queries_do_not_grow_with_the_cards(owner_client, project, funded, runway_emulator, media_root,
                                                   django_assert_max_num_queries):
    made = [submit(project, funded, f"shot {i}") for i in range(12)]
    state = page_state(owner_client.get(queue_url(project)).content.decode())
    for g in made[:6]:
        drive(g)
    # Session, user, membership; the cards, their holds, their outputs; the count.
    with django_assert_max_num_queries(3 + 4):
        body = owner_client.get(updates_url(project), {"card": state, "shown": "12", "view": "feed"}).content.decode()
    assert body.count("<article") == 6


def test_bad_asks_strangers_and_anonymous(owner_client, stranger_client, project, two_running):
    first, _ = two_running
    for bad in (["x:1"], [f"{first.pk}"], [f"{first.pk}:<b>"], [f"{n}:a" for n in range(1, 102)]):
        response = owner_client.get(updates_url(project), {"card": bad})
        assert response.status_code == 400 and "card" in response.content.decode()
    assert stranger_client.get(updates_url(project), {"card": [f"{first.pk}:0"]}).status_code == 404
    anonymous = client_for(None).get(updates_url(project))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_cards_of_another_project_are_not_answered(owner_client, project, funded, runway_emulator, media_root):
    personal = funded.memberships.exclude(project=project).get().project
    elsewhere = submit(personal, funded)
    drive(elsewhere)
    answer = owner_client.get(updates_url(project), {"card": [f"{elsewhere.pk}:0"]})
    assert answer.status_code == 286 and "<article" not in answer.content.decode()


# --- what a card says about money ---------------------------------------------------------------


def money_of(client, generation) -> str:
    card = card_of(client.get(detail_url(generation)).content.decode(), generation)
    return re.search(r'<span class="gen-money">(.*?)</span>', card).group(1)


def test_an_open_hold_is_shown_as_held(owner_client, project, two_running):
    first, _ = two_running
    hold = Hold.objects.get(generation=first)
    assert hold.state == HoldState.OPEN
    assert money_of(owner_client, first) == f"{hold.amount} credits held"


def test_a_cancel_before_runway_started_says_nothing_charged(owner_client, project, two_running):
    first, _ = two_running
    owner_client.post(reverse("generations:cancel", args=[project.slug, first.pk]))
    assert Hold.objects.get(generation=first).state == HoldState.RELEASED
    assert money_of(owner_client, first) == "nothing charged"


def test_a_cancel_after_runway_started_says_what_was_charged(owner_client, project, funded, runway_emulator,
                                                             media_root):
    runway_emulator.freeze_clock(True)
    runway_emulator.set_speed(1)
    g = submit(project, funded)
    run.run_generation(generation_id=g.pk)
    pending_for, _ = TIMINGS["image"]
    runway_emulator.advance_clock(pending_for + 1)  # Runway has started it; our row still says PENDING
    cancel.cancel_generation(generation=g)  # as the ops console's action does
    g.refresh_from_db()
    hold = Hold.objects.get(generation=g)
    assert g.status == Status.CANCELLED and hold.state == HoldState.SETTLED and hold.charged
    assert money_of(owner_client, g) == f"charged {hold.charged}"


def test_a_finished_generation_says_charged_and_a_refund_says_refunded(owner_client, project, owner,
                                                                      two_running):
    done = drive(two_running[0])
    hold = Hold.objects.get(generation=done)
    assert money_of(owner_client, done) == f"charged {hold.charged}"
    ledger.refund(generation=done, by=owner, note="test")
    assert money_of(owner_client, done) == f"refunded {hold.charged}"


def test_the_money_update_reaches_the_page_without_a_status_change(owner_client, project, owner, two_running):
    done = drive(two_running[0])
    state = page_state(owner_client.get(detail_url(done)).content.decode()) or [f"{done.pk}:0"]
    ledger.refund(generation=done, by=owner, note="test")
    body = owner_client.get(updates_url(project), {"card": state}).content.decode()
    assert "refunded" in card_of(body, done)


# --- actions where results appear ----------------------------------------------------------------


def test_every_result_offers_its_actions_with_cost_and_seed(owner_client, project, two_running):
    done = drive(two_running[0])
    output = done.outputs.get()
    slug = project.slug
    for url in (detail_url(done), queue_url(project)):
        card = card_of(owner_client.get(url).content.decode(), done)
        reuse = reverse("generations:new", args=[slug]) + f"?endpoint={done.endpoint}&model={done.model}&reuse={done.pk}"
        assert f'href="{reuse}"'.replace("&", "&amp;") in card
        assert f'href="{reverse("gallery:output", args=[slug, output.pk])}"' in card
        assert f'href="{reverse("generations:output_file", args=[slug, output.pk])}?download=1"' in card
        assert f'action="{reverse("gallery:favourite", args=[slug, output.pk])}"' in card
        use = reverse("gallery:use", args=[slug, output.pk])
        for role in ("first_frame", "last_frame", "reference", "upscale"):
            assert f'value="{reverse("generations:output_as", args=[slug, output.pk, role])}"' in card, role
        assert card.count(f'action="{use}"') == 4
        assert f"charged {done.cost_credits}" in card
        assert "random seed" in card


def test_use_as_last_frame_makes_the_asset_and_opens_the_form_with_it(owner_client, project, two_running):
    done = drive(two_running[0])
    output = done.outputs.get()
    then = reverse("generations:output_as", args=[project.slug, output.pk, "last_frame"])
    response = owner_client.post(reverse("gallery:use", args=[project.slug, output.pk]), {"next": then},
                                 follow=True)
    asset = output.reused_as.get()
    final, _ = response.redirect_chain[-1]
    assert response.status_code == 200
    assert "endpoint=image_to_video" in final and f"last_frame={asset.pk}" in final
    assert f'value="{asset.pk}" checked' in response.content.decode() or \
        re.search(rf'value="{asset.pk}"[^>]*checked', response.content.decode())


def test_use_as_a_role_the_output_cannot_take_is_404(owner_client, viewer_client, project, two_running):
    done = drive(two_running[0])
    output = done.outputs.get()
    assert owner_client.get(reverse("generations:output_as", args=[project.slug, output.pk, "extend"])) \
        .status_code == 404  # an image does not extend
    assert owner_client.get(reverse("generations:output_as", args=[project.slug, output.pk, "nonsense"])) \
        .status_code == 404
    assert viewer_client.get(reverse("generations:output_as", args=[project.slug, output.pk, "upscale"])) \
        .status_code == 403
    not_yet = owner_client.get(reverse("generations:output_as", args=[project.slug, output.pk, "upscale"]))
    assert not_yet.status_code == 302 and not_yet["Location"] == reverse("gallery:output",
                                                                         args=[project.slug, output.pk])


def test_viewers_see_open_download_and_no_editing_actions(viewer_client, project, two_running):
    done = drive(two_running[0])
    card = card_of(viewer_client.get(detail_url(done)).content.decode(), done)
    assert "Open in gallery" in card and "Download" in card
    assert "Reuse settings" not in card and "gallery:use" not in card and "Use as" not in card


# --- the queue as a compact feed ---------------------------------------------------------------


def test_the_queue_shows_posters_not_players(owner_client, project, funded, runway_emulator, media_root):
    video = submitting.submit_generation(project=project, user=funded, endpoint="text_to_video", model="gen4.5",
                                         params={"prompt_text": "a slow push in", "ratio": "1280:720",
                                                 "duration": 5})
    drive(video)
    output = video.outputs.get()
    body = owner_client.get(queue_url(project)).content.decode()
    card = card_of(body, video)
    assert "<video controls" not in body and "<audio controls" not in body
    assert 'preload="none"' in card and "muted" in card and "data-hover-play" in card
    assert f'poster="{reverse("generations:output_thumb", args=[project.slug, output.pk])}"' in card
    assert f'href="{detail_url(video)}"' in card
    for role in ("extend", "reference", "upscale"):
        assert reverse("generations:output_as", args=[project.slug, output.pk, role]) in card


def test_a_cancel_from_the_feed_returns_the_compact_card(owner_client, project, two_running):
    first, _ = two_running
    response = owner_client.post(reverse("generations:cancel", args=[project.slug, first.pk]),
                                 {"view": "feed"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "gen-tile" in body and "nothing charged" in body
    assert not page_state(body)


def test_an_empty_page_past_the_end_and_pagination(owner_client, project, funded, runway_emulator, media_root):
    for i in range(21):
        Generation.objects.create(project=project, created_by=funded, endpoint="text_to_image",
                                  model="gen4_image", params={"prompt_text": f"p{i}"}, prompt=f"p{i}",
                                  status=Status.SUCCEEDED, finished_at=timezone.now())
    first = owner_client.get(queue_url(project)).content.decode()
    assert "Page 1 of 2" in first and first.count("<article") == 20
    last = owner_client.get(queue_url(project), {"page": 99}).content.decode()
    assert "Page 2 of 2" in last and last.count("<article") == 1
    empty = owner_client.get(queue_url(project), {"status": "FAILED"}).content.decode()
    assert "No generations with this status." in empty and "<article" not in empty


def test_a_cancel_from_a_page_is_said_in_its_live_region_and_not_kept_for_the_next_page(owner_client, project,
                                                                                      two_running):
    first, _ = two_running
    response = owner_client.post(reverse("generations:cancel", args=[project.slug, first.pk]),
                                 HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article id="generation-{first.pk}"')
    assert '<p id="feed-news" hx-swap-oob="innerHTML">Generation cancelled; its credit hold is released.</p>' in body
    assert "credit hold is released" not in owner_client.get(queue_url(project)).content.decode()
