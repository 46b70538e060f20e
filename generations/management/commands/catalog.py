"""`manage.py catalog [--json] [--endpoint KEY]`: every endpoint, model and setting Takes offers.

The plain listing is for people; `--json` is for tooling and documentation:
endpoint → {label, output, description, models: model → {label, price, fields: [...]}},
each field with its type, whether it is required, its choices or range, and its default.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from runway import catalog


def describe_field(f: catalog.Field) -> dict[str, Any]:
    """One setting as the listing shows it; keys without a value are left out."""
    found: dict[str, Any] = {"name": f.name, "label": f.label, "type": f.kind, "required": f.required}
    if f.kind == "choice":
        found["choices"] = [{"value": v, "label": label} for v, label in f.choice_pairs]
    bounds = {"min": f.min, "max": f.max, "min_length": f.min_length, "max_length": f.max_length,
              "min_items": f.min_items, "max_items": f.max_items}
    found.update({k: v for k, v in bounds.items() if v is not None})
    if f.media_kinds:
        found["media"] = list(f.media_kinds)
    if f.default is not None:
        found["default"] = f.default
    if f.unit:
        found["unit"] = f.unit
    if f.parent:
        found["part_of"] = f.parent
    if f.help:
        found["help"] = f.help
    return found


def describe_model(model: catalog.Model) -> dict[str, Any]:
    price = model.price
    return {
        "label": model.label,
        "price": {"credits": price.credits, "per": price.unit, "published": not price.estimate},
        "fields": [describe_field(f) for f in model.fields],
    }


def listing(endpoints: list[catalog.Endpoint]) -> dict[str, Any]:
    return {e.key: {"label": e.label, "output": e.output_kind, "description": e.description,
                    "models": {m.id: describe_model(m) for m in e.models}} for e in endpoints}


def _shown(field: dict[str, Any]) -> str:
    if "choices" in field:
        values = [str(c["value"]) for c in field["choices"]]
        return " | ".join(values) if len(values) <= 6 else f"{' | '.join(values[:5])} … ({len(values)} choices)"
    if "min" in field or "max" in field:
        return f"{field.get('min', '')}…{field.get('max', '')}"
    if "max_items" in field:
        return f"up to {field['max_items']}"
    if "max_length" in field:
        return f"up to {field['max_length']} characters"
    return ""


class Command(BaseCommand):
    help = "List every generation endpoint, model and setting (--json for tooling)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print the catalog as JSON")
        parser.add_argument("--endpoint", help="only this endpoint (e.g. text_to_video)")

    def handle(self, *args, **options) -> None:
        endpoints = list(catalog.ENDPOINTS.values())
        if options["endpoint"]:
            try:
                endpoints = [catalog.get_endpoint(options["endpoint"])]
            except catalog.UnknownModel as error:
                raise CommandError(str(error)) from None
        data = listing(endpoints)
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            return
        for key, endpoint in data.items():
            self.stdout.write(f"{endpoint['label']} ({key}) → {endpoint['output']}")
            for model_id, model in endpoint["models"].items():
                price = model["price"]
                self.stdout.write(f"  {model['label']} ({model_id}): {price['credits']:g} credits per {price['per']}"
                                  f"{'' if price['published'] else ' (our estimate)'}")
                for field in model["fields"]:
                    mark = "*" if field["required"] else " "
                    self.stdout.write(f"    {mark} {field['name']:<24} {field['type']:<9} {_shown(field)}".rstrip())
        self.stdout.write(f"{sum(len(e['models']) for e in data.values())} models on {len(data)} endpoints; "
                          "* marks a required setting.")
