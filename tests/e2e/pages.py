"""What every page a browser test visits must hold: no serious accessibility problem, and a
screenshot at a desktop and a phone width for a person to look at.

axe-core (vendored from the npm registry in `vendor/axe.min.js`, MPL-2.0) runs in the page
itself; a violation of impact "serious" or "critical" fails the test with what and where.
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WIDTHS = {"desktop": 1400, "phone": 390}
BLOCKING = ("serious", "critical")


def axe_violations(page, *, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in found if v.get("impact") in impacts]


def assert_accessible(page, what: str = "") -> None:
    """No serious or critical axe-core violation on the page."""
    problems = axe_violations(page)
    described = [f"{v['id']} ({v['impact']}): {v['help']} — "
                 + "; ".join(", ".join(n["target"]) for n in v["nodes"][:3]) for v in problems]
    assert not problems, f"{what or page.url}: " + " | ".join(described)


def shoot(page, shots_dir: Path, name: str, *, check: bool = True) -> None:
    """Screenshots of the page at a desktop and a phone width (full page), each checked with axe-core.

    The viewport is put back afterwards; the page is not reloaded, so what is on it stays.
    """
    before = page.viewport_size
    try:
        for label, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": before["height"] if before else 900})
            page.screenshot(path=str(shots_dir / f"{name}-{label}.png"), full_page=True)
            if check:
                assert_accessible(page, f"{name} at {width} px")
    finally:
        if before:
            page.set_viewport_size(before)
