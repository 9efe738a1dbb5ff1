"""Input problems as data: collected before a run, rendered in zh or en.

A :class:`Problem` names where it was found (file, layer or field), the value found and what was
expected. Validation returns a list of problems instead of raising, so a user sees every problem at
once; :class:`GepInputError` carries such a list when a computation must stop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from gep.i18n import DEFAULT_LANG, message

Severity = Literal["error", "warning"]

_SEVERITY_LABEL = {
    "zh": {"error": "错误", "warning": "警告"},
    "en": {"error": "error", "warning": "warning"},
}


@dataclass(frozen=True)
class Problem:
    """One problem with an input.

    Attributes:
        severity: "error" stops a run; "warning" is reported and the run goes on.
        code: message key in ``gep/messages/*.toml`` (also a stable machine-readable code).
        source: the file (or spec section) the problem was found in.
        field: layer, column, field or parameter name, if any.
        params: values substituted into the message (value found, expected, counts...).
    """

    severity: Severity
    code: str
    source: str
    field: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def render(self, lang: str = DEFAULT_LANG) -> str:
        """The full one-line message: severity, where, and what was found versus expected."""
        label = _SEVERITY_LABEL[lang][self.severity]
        where = self.source if self.field is None else f"{self.source} [{self.field}]"
        text = message(self.code, lang, source=self.source, field=self.field, **self.params)
        return f"{label}: {where}: {text}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "source": self.source,
            "field": self.field,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "message_en": self.render("en"),
            "message_zh": self.render("zh"),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


def error(code: str, source: str, field: str | None = None, **params: Any) -> Problem:
    return Problem("error", code, str(source), field, params)


def warning(code: str, source: str, field: str | None = None, **params: Any) -> Problem:
    return Problem("warning", code, str(source), field, params)


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


class GepInputError(Exception):
    """Raised when inputs have errors that make a computation impossible.

    ``str(exc)`` lists every problem in English; use :meth:`render` for Chinese.
    """

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self.render("en"))

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return "\n".join(p.render(lang) for p in self.problems)
