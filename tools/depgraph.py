"""The apps' dependency picture, drawn from the code with grimp (import-linter's import graph).

`python tools/depgraph.py` rewrites the Mermaid diagram between the markers in
docs/architecture.md; `--check` exits 1 when the diagram there is out of date.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
# Top layer first, so the diagram reads downwards; the import contracts' packages (pyproject.toml), all of them.
PACKAGES = ["ops", "gallery", "presets", "api", "generations", "library", "assets", "credits", "notifications", "webhooks", "accounts", "runway", "audit", "core",
            "config", "emulator"]
DECLARED = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
BEGIN, END = "<!-- dependency graph: begin (make architecture) -->", "<!-- dependency graph: end -->"


def edges() -> list[tuple[str, str]]:
    """(importer, imported) for every pair of top-level packages where one imports the other (migrations aside)."""
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES)
    found = set()
    for module in graph.modules:
        if ".migrations." in module:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = module.split(".")[0], imported.split(".")[0]
            if a != b and b in PACKAGES:
                found.add((a, b))
    return sorted(found, key=lambda e: (PACKAGES.index(e[0]), PACKAGES.index(e[1])))


def mermaid() -> str:
    lines = ["```mermaid", "flowchart TD"]
    lines += [f"    {a} --> {b}" for a, b in edges()]
    lines.append("```")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/architecture.md is out of date")
    args = parser.parse_args()
    if set(PACKAGES) != set(DECLARED):
        print(f"tools/depgraph.py: PACKAGES must be the contracts' packages {sorted(DECLARED)}.")
        return 1
    text = DOC.read_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    fresh = text[:start] + "\n" + mermaid() + "\n" + text[stop:]
    if args.check:
        if fresh != text:
            print("docs/architecture.md: the dependency graph is out of date; run `make architecture`.")
            return 1
        return 0
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
