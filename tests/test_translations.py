"""Every interface string has its Vietnamese text, and the compiled catalogue is current."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "vi" / "LC_MESSAGES"
METHODS = [("survey/**.py", "python"), ("templates/**.html", "jinja2")]


def test_every_string_in_the_code_has_vietnamese_text():
    extracted = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT),
            METHODS,
            keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None},
        )
        if isinstance(message, str)
    }
    assert len(extracted) > 40  # templates and code were both read
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id: m.string for m in catalogue if m.id}
    missing = sorted(m for m in extracted if not translated.get(m))
    assert missing == [], "run scripts/vi_translations.py after adding texts"


def test_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        po = {m.id: m.string for m in read_po(handle) if m.id}
    mo = {
        m.id: m.string
        for m in read_mo(io.BytesIO((CATALOGUE / "messages.mo").read_bytes()))
        if m.id
    }
    assert po == mo


class _AnyValue(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "x"


def test_template_texts_survive_jinjas_percent_formatting():
    """Templates format every translated text with ``%`` (Jinja's new-style gettext), even with
    no variables: a lone ``%`` in a Vietnamese text there is a 500 in Vietnamese only (``95%``
    must be written ``95%%``). Both the English and the Vietnamese text of every message used in
    a template must format."""
    in_templates = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT),
            [("templates/**.html", "jinja2")],
            keywords={"_": None, "gettext": None},
        )
        if isinstance(message, str)
    }
    with (CATALOGUE / "messages.po").open("rb") as handle:
        translated = {m.id: m.string for m in read_po(handle) if m.id}
    broken = []
    for message in sorted(in_templates):
        for text in (message, translated.get(message) or message):
            try:
                text % _AnyValue()
            except (ValueError, TypeError) as error:
                broken.append(f"{text[:60]!r}: {error}")
    assert broken == []
