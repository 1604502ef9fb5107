"""JSON Schemas of the record types, for editors (`# yaml-language-server: $schema=...`)."""

from __future__ import annotations

import json
from pathlib import Path

from tools.models import SCHEMAS

SCHEMA_DIR = Path("catalog") / "schema"


def render_schemas() -> dict[str, str]:
    """file name -> JSON text of each record type's schema."""
    out = {}
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{name}.schema.json"
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return out


def write_schemas(root: Path) -> list[Path]:
    folder = root / SCHEMA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
