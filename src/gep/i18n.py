"""zh-CN / en user-facing text.

Messages live in ``gep/messages/*.toml`` (one file per area) as ``key -> {zh, en}`` templates
with ``{placeholders}`` and are rendered late, so the same problem can be shown in either
language. Code, logs and docs are English.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any, Literal, NamedTuple

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"


@cache
def _messages() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("gep").joinpath("messages")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        for key, templates in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            if key in merged:
                raise RuntimeError(f"message key {key!r} is defined twice (again in {entry.name})")
            merged[key] = templates
    return merged


class Text(NamedTuple):
    """A short bilingual phrase passed as a message parameter (e.g. what kind of file was expected)."""

    zh: str
    en: str

    def __str__(self) -> str:
        return self.en


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if it is a supported language, else raise ValueError naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return lang  # type: ignore[return-value]


def message(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """Render message ``key`` in ``lang`` with ``params`` substituted.

    Unknown keys raise KeyError: every message shown to users must exist in both languages.
    """
    lang = check_lang(lang)
    templates = _messages()[key]
    rendered = {k: (getattr(v, lang) if isinstance(v, Text) else v) for k, v in params.items()}
    return templates[lang].format(**rendered)


def has_message(key: str) -> bool:
    return key in _messages()
