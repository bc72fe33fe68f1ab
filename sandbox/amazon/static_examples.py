"""Amazon's own `x-amzn-api-sandbox.static` examples, loaded from the shipped model JSON at runtime.

A request whose parameters match an example gets that example's response verbatim, as Amazon's sandbox
host does; the most specific match (most parameters) wins. Everything else is served from the twin's
own data.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.datastructures import MultiDict

MODELS_DIR = Path(__file__).with_name("models")
MODEL_FILES = ("orders_2026-01-01.json", "ordersV0.json", "feeds_2021-06-30.json", "tokens_2021-03-01.json")


@dataclass(frozen=True)
class StaticExample:
    model: str
    operation_id: str
    parameters: dict[str, Any]
    locations: dict[str, str]
    status: int
    response: Any  # None when the example has no body


@functools.lru_cache(maxsize=4)
def load_examples(models_dir: Path = MODELS_DIR) -> dict[tuple[str, str], list[StaticExample]]:
    """(model stem, operationId) -> examples, in file order."""
    index: dict[tuple[str, str], list[StaticExample]] = {}
    for name in MODEL_FILES:
        model = json.loads((models_dir / name).read_text(encoding="utf-8"))
        stem = name.removesuffix(".json")
        for path_item in model.get("paths", {}).values():
            for method, op in path_item.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                locations = {p["name"]: p.get("in", "query") for p in op.get("parameters", [])}
                for code, response in op.get("responses", {}).items():
                    for ex in response.get("x-amzn-api-sandbox", {}).get("static", []):
                        params = ex.get("request", {}).get("parameters", {})
                        if not params:  # an empty pattern would swallow every request
                            continue
                        index.setdefault((stem, op["operationId"]), []).append(StaticExample(
                            model=stem, operation_id=op["operationId"], parameters=params,
                            locations=locations, status=int(code), response=ex.get("response"),
                        ))
    return index


def _query_values(args: MultiDict, name: str) -> list[str]:
    values: list[str] = []
    for raw in args.getlist(name):
        values.extend(v for v in raw.split(",") if v != "")
    return values


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _matches(example: StaticExample, view_args: dict, args: MultiDict, body: Any) -> bool:
    for name, spec in example.parameters.items():
        expected = spec.get("value") if isinstance(spec, dict) else spec
        where = "body" if name == "body" else example.locations.get(name, "query")
        if where == "body":
            if body != expected:
                return False
        elif where == "path":
            if view_args.get(name) != _scalar(expected):
                return False
        else:
            actual = _query_values(args, name)
            wanted = [_scalar(v) for v in expected] if isinstance(expected, list) else [_scalar(expected)]
            if sorted(actual) != sorted(wanted):
                return False
    return True


class StaticExamples:
    def __init__(self, models_dir: Path = MODELS_DIR) -> None:
        self.index = load_examples(models_dir)

    def match(self, model: str, operation_id: str, view_args: dict, args: MultiDict,
              body: Any) -> StaticExample | None:
        best: StaticExample | None = None
        for example in self.index.get((model, operation_id), []):
            if _matches(example, view_args, args, body) and (
                best is None or len(example.parameters) > len(best.parameters)
            ):
                best = example
        return best
