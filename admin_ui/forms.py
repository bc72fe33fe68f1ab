"""Small form helpers shared by the blueprints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

try:  # WTForms >= 3.3 deprecates plain (value, label) tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def choices(pairs: Iterable[tuple[str, str]]) -> list[Any]:
    """`(value, label)` pairs in the form this WTForms version wants for a SelectField."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]
