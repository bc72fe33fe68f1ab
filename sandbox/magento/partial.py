"""`?fields=items[entity_id,increment_id],total_count`: Magento's partial response (Rest FieldsFilter)."""

from __future__ import annotations

from typing import Any

Spec = dict[str, "Spec | None"]


def parse(text: str) -> Spec:
    """`a,b[c,d[e]]` → {"a": None, "b": {"c": None, "d": {"e": None}}}; unbalanced brackets are tolerated."""
    pos = 0

    def group() -> Spec:
        nonlocal pos
        spec: Spec = {}
        name = ""
        while pos < len(text):
            ch = text[pos]
            pos += 1
            if ch == ",":
                if name.strip():
                    spec.setdefault(name.strip(), None)
                name = ""
            elif ch == "[":
                spec[name.strip()] = group()
                name = ""
            elif ch == "]":
                break
            else:
                name += ch
        if name.strip():
            spec.setdefault(name.strip(), None)
        return spec

    return group()


def apply(value: Any, spec: Spec | None) -> Any:
    if spec is None:
        return value
    if isinstance(value, list):
        return [apply(v, spec) for v in value]
    if isinstance(value, dict):
        return {k: apply(value[k], sub) for k, sub in spec.items() if k in value}
    return value
