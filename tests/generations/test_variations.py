"""Variations: one submission fans out into a group of generations, held all or nothing.

Each group runs against the emulator over HTTP; the truth for what ran is the emulator's own
record of each task (its model, the seed it received, the credits it kept).
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actions import create_team_project
from credits import ledger
from credits.models import Hold, HoldState
from generations import poll, variations
from generations.models import Generation, GenerationGroup, Output, Status
from generations.submit import SubmissionError, submit_generation
from runway import catalog
from tests.concurrency import run_together
from tests.factories import drive

pytestmark = pytest.mark.django_db

PROMPT = "A lighthouse on a cliff at dusk, waves below"
IMAGE = {"endpoint": "text_to_image", "model": "gen4_image"}


def _image(project, user, **kwargs) -> GenerationGroup:
    params = {"prompt_text": PROMPT, "ratio": "1920:1080", **kwargs.pop("params", {})}
    return variations.submit_variations(project=project, user=user, params=params, **IMAGE, **kwargs)


def _sent(runway_emulator, generation) -> dict:
    return {c["id"]: c for c in runway_emulator.charges()}[generation.runway_task_id]


def test_n_seeds_of_the_same_settings_run_as_one_group(runway_emulator, project, funded):
    group = _image(project, funded, seeds=4)
    made = list(group.generations.order_by("pk"))
    assert group.size == len(made) == 4
    seeds = [g.params["seed"] for g in made]
    assert len(set(seeds)) == 4
    assert {g.params["prompt_text"] for g in made} == {PROMPT}
    held = Hold.objects.filter(generation__group=group, state=HoldState.OPEN)
    assert sum(h.amount for h in held) == sum(g.estimated_credits for g in made) > 0
    finished = [drive(g) for g in made]
    assert [g.status for g in finished] == [Status.SUCCEEDED] * 4
    assert [g.request_payload["seed"] for g in finished] == seeds  # what Runway received
    charged = {c["id"]: c["charged"] for c in runway_emulator.charges()}
    assert sum(h.charged for h in Hold.objects.filter(generation__group=group)) == \
        sum(charged[g.runway_task_id] for g in finished)


def test_a_grid_makes_every_combination_once(runway_emulator, project, funded):
    prompts = ["a red kite", "a grey heron", "a white gull"]
    group = _image(project, funded, grid={"ratio": ["1920:1080", "1080:1920"], "prompt_text": prompts})
    made = {(g.params["ratio"], g.params["prompt_text"]) for g in group.generations.all()}
    assert made == {(r, p) for r in ("1920:1080", "1080:1920") for p in prompts}
    assert group.size == 6 and group.axes == {"ratio": ["1920:1080", "1080:1920"], "prompt_text": prompts}


def test_models_side_by_side_each_take_their_own_settings(runway_emulator, project, funded):
    group = _image(project, funded, models=["gemini_2.5_flash", "ideogram_4_0"], params={"ratio": "1920:1080"})
    made = {g.model: g for g in group.generations.all()}
    assert set(made) == {"gen4_image", "gemini_2.5_flash", "ideogram_4_0"}
    gemini = catalog.get_model("text_to_image", "gemini_2.5_flash").field("ratio")
    assert made["gen4_image"].params["ratio"] == "1920:1080"
    assert made["gemini_2.5_flash"].params["ratio"] == gemini.default  # it has no 1920:1080: its own
    for g in made.values():
        assert set(g.params) <= set(catalog.get_model("text_to_image", g.model).field_names)
    for g in made.values():
        g = drive(g)
        assert g.status == Status.SUCCEEDED, (g.model, g.failure_message)
        assert _sent(runway_emulator, g)["model"] == g.model


def test_one_invalid_combination_refuses_the_whole_and_holds_nothing(runway_emulator, project, funded):
    with pytest.raises(SubmissionError, match="Variation “ratio 7:3”"):
        _image(project, funded, grid={"ratio": ["1920:1080", "7:3"]})
    assert not Generation.objects.exists() and not Hold.objects.exists() and not GenerationGroup.objects.exists()
    assert ledger.account_for(funded).held == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seeds": 9}, "between 1 and 8 seeds"),
    ({"seeds": 1}, "at least two generations"),
    ({"grid": {"prompt_text": ["a"] * 2}}, "each value to try once"),
    ({"grid": {"ratio": ["1920:1080"] * 1, "prompt_text": [str(i) for i in range(26)]}, "seeds": 2},
     "at most 50"),
    ({"grid": {"ratio": ["1920:1080", "1080:1920"], "prompt_text": ["a", "b"], "seed": [1, 2]}},
     "at most 2 settings"),
])
def test_impossible_variations_are_refused_with_a_reason(runway_emulator, project, funded, kwargs, message):
    with pytest.raises(SubmissionError, match=message):
        _image(project, funded, **kwargs)
    assert not Generation.objects.exists()


def test_a_model_without_a_seed_cannot_vary_by_seed(runway_emulator, project, funded):
    with pytest.raises(SubmissionError, match="takes no seed"):
        variations.submit_variations(project=project, user=funded, endpoint="text_to_speech",
                                     model="eleven_multilingual_v2",
                                     params={"prompt_text": "Hello", "voice": "Maya"}, seeds=3)


def test_a_budget_for_five_refuses_a_six_way_variation_whole(runway_emulator, project, funded, owner):
    one = variations.variants(**IMAGE, params={"prompt_text": PROMPT, "ratio": "1920:1080"}, seeds=2)
    per = catalog.estimate_credits(one[0].model, one[0].params)
    ledger.set_project_budget(project=project, amount=per * 5, by=owner)
    before = ledger.account_for(funded).balance
    with pytest.raises(SubmissionError, match="for all 6 variations"):
        _image(project, funded, seeds=6)
    budget = ledger.budget_for(project)
    assert (budget.balance, budget.held) == (per * 5, 0)
    assert (ledger.account_for(funded).balance, ledger.account_for(funded).held) == (before, 0)
    assert not Hold.objects.exists() and not Generation.objects.exists()
    group = _image(project, funded, seeds=5)  # five fit exactly
    assert group.size == 5 and ledger.budget_for(project).balance == 0


@pytest.mark.django_db(transaction=True)
def test_two_variations_racing_for_one_balance_each_win_or_lose_whole(runway_emulator, project, owner):
    one = variations.variants(**IMAGE, params={"prompt_text": PROMPT, "ratio": "1920:1080"}, seeds=2)
    per = catalog.estimate_credits(one[0].model, one[0].params)
    ledger.set_project_budget(project=project, amount=per * 6, by=owner)  # room for one group of four
    ledger.grant(user=owner, amount=per * 100)

    def attempt(i):
        return _image(project, owner, seeds=4)

    results = run_together(attempt, 2)
    won = [r for r in results if isinstance(r, GenerationGroup)]
    lost = [r for r in results if isinstance(r, SubmissionError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert Generation.objects.count() == 4 and Hold.objects.count() == 8  # the person's and the budget's
    assert ledger.budget_for(project).balance == per * 2


def test_queries_do_not_grow_with_the_number_of_variations(runway_emulator, project, funded):
    counts = []
    for seeds in (2, 8):
        with CaptureQueriesContext(connection) as queries:
            _image(project, funded, seeds=seeds)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_group_is_cancelled_and_retried_as_a_whole(runway_emulator, project, funded):
    group = _image(project, funded, seeds=3)
    assert variations.cancel_group(group=group) == 3
    assert set(group.generations.values_list("status", flat=True)) == {Status.CANCELLED}
    assert ledger.account_for(funded).held == 0  # every hold released
    again = variations.retry_group(group=group, user=funded)
    assert again.pk != group.pk and again.size == 3
    assert {g.retry_of_id for g in again.generations.all()} == set(group.generations.values_list("pk", flat=True))
    assert [drive(g).status for g in again.generations.order_by("pk")] == [Status.SUCCEEDED] * 3
    with pytest.raises(SubmissionError, match="nothing to retry"):
        variations.retry_group(group=again, user=funded)


def test_the_group_is_started_by_one_job_and_a_lost_job_is_resumed_by_the_poller(runway_emulator, project,
                                                                                  funded):
    group = _image(project, funded, seeds=2)
    assert variations.start_group(group_id=group.pk) == 2
    assert variations.start_group(group_id=group.pk) == 0  # already on their way: not queued twice
    lost = _image(project, funded, seeds=2)  # its job never runs
    resumed, _ = poll.resume_stalled()
    assert resumed >= 2
    assert not lost.generations.filter(next_poll_at__isnull=False, status=Status.QUEUED).exists()


def test_the_form_shows_the_total_and_submits_the_group(runway_emulator, project, funded, owner_client):
    data = {"endpoint": "text_to_image", "model": "gen4_image", "prompt_text": PROMPT, "ratio": "1920:1080",
            "variation_seeds": "3", "vary_field": "ratio", "vary_values": "1920:1080, 1080:1920"}
    shown = owner_client.post(reverse("generations:estimate", args=[project.slug]), data, HTTP_HX_REQUEST="true")
    one = catalog.estimate_credits(catalog.get_model("text_to_image", "gen4_image"),
                                   {"prompt_text": PROMPT, "ratio": "1920:1080"})
    assert f"6 variations: {6 * one} credits in all" in shown.content.decode()
    made = owner_client.post(reverse("generations:new", args=[project.slug]), data)
    assert made.status_code == 302 and made["Location"].endswith("/queue/")
    group = GenerationGroup.objects.get()
    assert group.size == 6 and Generation.objects.filter(group=group).count() == 6
    bad = owner_client.post(reverse("generations:new", args=[project.slug]), {**data, "variation_seeds": "20"})
    assert bad.status_code == 400 and "between 1 and 8 seeds" in bad.content.decode()
    assert GenerationGroup.objects.count() == 1


def test_a_group_is_cancelled_and_retried_from_its_page(runway_emulator, project, funded, owner_client,
                                                        editor_client):
    group = _image(project, funded, seeds=2)
    first = group.generations.order_by("pk").first()
    page = owner_client.get(first.get_absolute_url()).content.decode()
    assert "One of 2 variations" in page
    assert editor_client.post(reverse("generations:group_cancel", args=[project.slug, group.pk])).status_code == 403
    assert owner_client.post(reverse("generations:group_cancel", args=[project.slug, group.pk])).status_code == 302
    assert set(group.generations.values_list("status", flat=True)) == {Status.CANCELLED}
    assert owner_client.post(reverse("generations:group_retry", args=[project.slug, group.pk])).status_code == 302
    assert GenerationGroup.objects.count() == 2


def test_the_queue_shows_a_group_as_one_block_between_single_generations(runway_emulator, project, funded,
                                                                          owner_client):
    alone = submit_generation(project=project, user=funded, params={"prompt_text": "alone", "ratio": "1920:1080"},
                              **IMAGE)
    group = _image(project, funded, grid={"ratio": ["1920:1080", "1080:1920"], "prompt_text": ["a kite", "a gull"]})
    body = owner_client.get(reverse("generations:queue", args=[project.slug])).content.decode()
    start = body.index(f'aria-label="Variations #{group.pk}"')
    block = body[start:body.index("</section>", start)]
    assert "2 ratios × 2 prompt texts" in block
    members = sorted(group.generations.values_list("pk", flat=True))
    assert sorted(int(pk) for pk in re.findall(r'id="generation-(\d+)"', block)) == members
    assert f'id="generation-{alone.pk}"' in body and f'id="generation-{alone.pk}"' not in block
    assert f"?group={group.pk}" in block  # compare them in the gallery
    cancel_url, retry_url = (reverse(f"generations:{a}", args=[project.slug, group.pk])
                             for a in ("group_cancel", "group_retry"))
    assert cancel_url in block and retry_url not in block  # all running: nothing to retry yet
    variations.cancel_group(group=group)
    body = owner_client.get(reverse("generations:queue", args=[project.slug])).content.decode()
    start = body.index(f'aria-label="Variations #{group.pk}"')
    block = body[start:body.index("</section>", start)]
    assert retry_url in block and cancel_url not in block


def test_the_gallery_shows_a_groups_outputs_together(runway_emulator, project, funded, owner_client, media_root,
                                                     stranger):
    group = _image(project, funded, seeds=3)
    for g in group.generations.all():
        drive(g)
    drive(submit_generation(project=project, user=funded, params={"prompt_text": "single", "ratio": "1920:1080"},
                            **IMAGE))
    url = reverse("gallery:index", args=[project.slug])
    everything = owner_client.get(url).content.decode()
    assert everything.count("1 of 3 variations") == 3
    together = owner_client.get(url, {"group": group.pk})
    body = together.content.decode()
    assert together.status_code == 200
    assert f"Variations #{group.pk}" in body and "3 seeds" in body
    shown = {int(pk) for pk in re.findall(r'id="output-(\d+)"', body)}
    assert shown == set(Output.objects.filter(generation__group=group).values_list("pk", flat=True))
    assert len(shown) == 3
    assert 'name="group"' in body  # other filters keep to the group
    ledger.grant(user=stranger, amount=10_000, note="tests")
    theirs = _image(create_team_project(user=stranger, name="Elsewhere"), stranger, seeds=2)
    for bad in ("0", "x", str(theirs.pk + 1000), str(theirs.pk)):
        refused = owner_client.get(url, {"group": bad})
        assert refused.status_code == 400, bad
