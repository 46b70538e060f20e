"""The price table against the installed runwayml SDK, and the two copies of it against each other.

Every figure the SDK prints in its docstrings is read from the SDK's own source here, with
a pattern per sentence, and the price the emulator charges is checked against it. If the
SDK changes a figure, the pattern still matches and the test fails; if it rewords the
sentence, the pattern stops matching and the test fails too, so nobody misses it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import runwayml

from emulator import models as emulator_models
from emulator import pricing
from emulator import resources as emulator_resources
from runway import catalog

ROOT = Path(__file__).resolve().parents[2]
SDK_TYPES = Path(runwayml.__file__).parent / "types"


def sdk_text(module: str) -> str:
    """The source of one SDK types module, whitespace folded so sentences match across lines."""
    return " ".join((SDK_TYPES / f"{module}.py").read_text(encoding="utf-8").split())


def figures(text: str, pattern: str) -> tuple[int, ...]:
    """The numbers a sentence of the SDK states; fails loudly when the sentence is gone."""
    match = re.search(pattern, text)
    assert match, f"the SDK no longer says: {pattern}"
    return tuple(int(g) for g in match.groups())


def charge(endpoint: str, model: str, inputs=None, **body) -> int:
    return pricing.price(endpoint, model, body, inputs or {})


def test_the_emulator_ships_the_catalogs_price_table_unchanged():
    ours = (ROOT / "runway" / "catalog" / "prices.json").read_bytes()
    shipped = (ROOT / "emulator" / "prices.json").read_bytes()
    assert shipped == ours, "emulator/prices.json differs from runway/catalog/prices.json: run `make prices`"


def test_every_model_either_side_serves_has_a_price():
    served = {(e, m) for e, by_model in emulator_models.request_schemas().items()
              if e not in emulator_models.ROUTER_ENDPOINTS for m in by_model}
    served |= {("avatar_videos", emulator_resources.AVATAR_MODEL)}
    offered = {(m.endpoint, m.id) for m in catalog.all_models() if not m.routed}  # routed: the chosen model's
    assert offered <= served
    for endpoint, model in sorted(served):
        rule = pricing.rule_for(endpoint, model)
        assert rule["unit"] in ("second", "image", "task", "characters", "input_second"), model
        assert rule["source"] in ("sdk", "contract", "estimate"), model
    keys = json.loads((ROOT / "runway" / "catalog" / "prices.json").read_text())["models"]
    unused = {k for k in keys if k.split(":")[-1] not in {m for _, m in served}}
    assert unused <= {"veo3", "gen4_aleph"}  # retired models still billed in usage reports


@pytest.mark.parametrize("endpoint", ["text_to_video", "image_to_video"])
def test_gen45_output_format_surcharges_are_the_sdks(endpoint):
    text = sdk_text(f"{endpoint}_create_params")
    light, deep, large = figures(text, r"(\d+) credits per second for `prores` and `png_sequence`, and (\d+) "
                                       r"credits per second for every 10-bit and deeper profile .*? rising to (\d+) "
                                       r"credits per second when the output is larger than 4 megapixels")
    base = charge(endpoint, "gen4.5", duration=5, ratio="1280:720") // 5
    assert charge(endpoint, "gen4.5", duration=5, ratio="1280:720", outputFormat="mp4") == base * 5
    for fmt in ("prores", "png_sequence"):
        assert charge(endpoint, "gen4.5", duration=5, ratio="1280:720", outputFormat=fmt) == (base + light) * 5
    for fmt in ("hdr10", "hlg", "sdr_rec709_10bit", "hdr_pq_12bit_master", "hdr_exr_sequence"):
        assert charge(endpoint, "gen4.5", duration=5, ratio="1280:720", outputFormat=fmt) == (base + deep) * 5
    assert large > deep  # gen4.5's ratios all stay under 4 MP, so only the deep rate applies


def test_aleph2_surcharges_are_the_sdks_and_it_bills_the_inputs_length():
    text = sdk_text("video_to_video_create_params")
    light, deep, large = figures(text, r"(\d+) credits per second for `prores` and `png_sequence`, and (\d+) "
                                       r"credits per second for `sdr_rec709_10bit` — (\d+) credits per second "
                                       r"when the output is larger than 4 megapixels")
    small = {"videoUri": [{"duration": 3.4, "width": 1280, "height": 720}]}
    big = {"videoUri": [{"duration": 3.4, "width": 3840, "height": 2160}]}
    base = charge("video_to_video", "aleph2", small) // 4  # 3.4 s bills 4 started seconds
    assert charge("video_to_video", "aleph2", small, outputFormat="prores") == (base + light) * 4
    assert charge("video_to_video", "aleph2", small, outputFormat="sdr_rec709_10bit") == (base + deep) * 4
    assert charge("video_to_video", "aleph2", big, outputFormat="sdr_rec709_10bit") == (base + large) * 4


def test_ruby_bills_the_sdks_rate_per_second_of_its_source():
    text = sdk_text("video_to_hdr_create_params")
    rate, large = figures(text, r"(\d+) credits per second of output, rising to (\d+) credits per second when "
                                r"the source is larger than 4")
    hd = {"videoUri": [{"duration": 6.0, "width": 1920, "height": 1080}]}
    uhd = {"videoUri": [{"duration": 6.0, "width": 3840, "height": 2160}]}
    assert charge("video_to_hdr", "ruby", hd) == rate * 6
    assert charge("video_to_hdr", "ruby", uhd) == large * 6
    assert charge("video_to_hdr", "ruby", hd, outputFormat="hdr_exr_sequence") == rate * 6


def test_image_prices_the_sdk_states():
    text = sdk_text("text_to_image_create_params")
    (each,) = figures(text, r"The number of images to generate\. Each image costs (\d+) credit")
    assert charge("text_to_image", "muse_image", outputCount=3) == each * 3

    low, medium, high = figures(text, r"`low` costs (\d+) credits per image, `medium` (\d+) and `high` (\d+)")
    assert [charge("text_to_image", "ideogram_4_0", quality=q, outputCount=2) for q in ("low", "medium", "high")] \
        == [low * 2, medium * 2, high * 2]

    with_refs, without, low45, very_low = figures(
        text, r"Defaults to `medium` \((\d+) credits per image\) when generating from reference images and `high` "
              r"\((\d+) credits\) otherwise, including `preciseEdit`\. `low` costs (\d+) credits and `very_low` (\d+)")
    refs = [{"uri": "runway://a"}]
    assert charge("text_to_image", "ideogram_4_5") == without
    assert charge("text_to_image", "ideogram_4_5", referenceImages=refs) == with_refs
    assert charge("text_to_image", "ideogram_4_5", quality="low") == low45
    assert charge("text_to_image", "ideogram_4_5", quality="very_low", referenceImages=refs) == very_low

    one_mp, four_mp = figures(text, r"1MP sizes cost (\d+) credits per image and 4MP sizes (\d+)")
    assert charge("text_to_image", "bria_fibo_1_5", ratio="1024:1024") == one_mp
    assert charge("text_to_image", "bria_fibo_1_5", ratio="2048:2048") == four_mp

    (two_k,) = figures(text, r"2K ratios cost (\d+) additional credits per image")
    (cheaper,) = figures(text, r"`low` is faster and costs (\d+) fewer credits per image")
    (per_ref,) = figures(text, r"Up to 3 images to guide the generation\. .*? Each adds (\d+) credit to the generation")
    grok = charge("text_to_image", "grok_imagine_image_2", ratio="1024:1024", outputCount=2)
    assert charge("text_to_image", "grok_imagine_image_2", ratio="2048:2048", outputCount=2) == grok + two_k * 2
    assert charge("text_to_image", "grok_imagine_image_2", ratio="auto_2k", outputCount=2) == grok + two_k * 2
    assert charge("text_to_image", "grok_imagine_image_2", ratio="1024:1024", outputCount=2,
                  quality="low") == grok - cheaper * 2
    assert charge("text_to_image", "grok_imagine_image_2", ratio="1024:1024", outputCount=2,
                  referenceImages=refs * 3) == grok + per_ref * 3

    (per_image_ref,) = figures(text, r"Each reference image adds (\d+) credit per generated image")
    for model in ("gpt_image_2_5_flare", "gpt_image_2_5_sunburst"):
        plain = charge("text_to_image", model, outputCount=3)
        assert charge("text_to_image", model, outputCount=3, referenceImages=refs * 2) == plain + per_image_ref * 2 * 3


def test_auto_durations_hold_the_variants_most_up_front():
    text = sdk_text("text_to_video_create_params")
    assert "`auto` is billed at the variant maximum up front; unused credits are refunded" in text
    most = 15  # Seedance 2's longest video: int 4–15 s (CONTRACT §2.1; the SDK states no range)
    assert charge("text_to_video", "seedance2", duration="auto") == charge("text_to_video", "seedance2",
                                                                          duration=most)
