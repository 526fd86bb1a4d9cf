#!/usr/bin/env python3
"""Writes tests/fixtures/official-schemas.json: the facts of HeyGen's official per-operation
JSON schemas (method, path, field names, types, required, nullable, enums, limits), without
their descriptions, examples or titles. The source is the schema set extracted from HeyGen's
official CLI; pass its path (default: ../shared/reference/official-schemas.json)."""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "..", "shared", "reference", "official-schemas.json")
target = os.path.join(here, "..", "tests", "fixtures", "official-schemas.json")

WORDS = ("description", "example", "examples", "title")


def facts(value):
    """A schema without its annotations. The names of its properties are facts, even when a
    property is called `title` or `description`: only a schema's own keys are dropped."""
    if isinstance(value, dict):
        out = {}
        for key, member in value.items():
            if key in WORDS:
                continue
            if key in ("properties", "patternProperties", "definitions", "$defs") \
                    and isinstance(member, dict):
                out[key] = {name: facts(schema) for name, schema in member.items()}
            else:
                out[key] = facts(member)
        return out
    if isinstance(value, list):
        return [facts(v) for v in value]
    return value


with open(source) as f:
    official = json.load(f)
ops = [
    {
        "method": op["method"],
        "path": op["path"],
        "request": facts(op.get("RequestSchema")),
        "response": facts(op.get("ResponseSchema")),
    }
    for op in official["ops"]
]
ops.sort(key=lambda op: (op["path"], op["method"]))
with open(target, "w") as f:
    json.dump({"source": official.get("source", ""), "ops": ops}, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"{len(ops)} operations -> {os.path.relpath(target)}")
