"""Every user-facing string goes through one catalogue, complete in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bankcrm.core.i18n import LOCALE_DIR, Translator, catalogue, normalise_locale

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = extract_from_dir(
        str(ROOT / "src"),
        method_map,
        options_map,
        keywords={"_": None, "N_": None, "gettext": None, "t": None},
    )
    return {
        message
        for _file, _line, message, _comments, _context in found
        if isinstance(message, str) and message
    }


def po_messages(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)}


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    return source_messages()


def test_every_source_string_has_a_chinese_translation(extracted: set[str]) -> None:
    chinese = po_messages("zh_CN")
    missing = sorted(m for m in extracted if not chinese.get(m))
    assert not missing, f"run `make i18n` and translate: {missing}"


def test_every_source_string_is_in_the_english_catalogue(extracted: set[str]) -> None:
    missing = sorted(extracted - set(po_messages("en")))
    assert not missing, f"run `make i18n`: {missing}"


def test_catalogues_have_no_stale_entries(extracted: set[str]) -> None:
    stale = sorted(set(po_messages("zh_CN")) - extracted)
    assert not stale, f"messages no longer in the source: {stale}"


def test_translations_keep_the_placeholders_of_their_source() -> None:
    for msgid, text in po_messages("zh_CN").items():
        if text:
            assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(text)), msgid


def test_chinese_is_the_default_and_english_falls_back_to_source() -> None:
    assert normalise_locale(None) == "zh_CN"
    assert normalise_locale("en-US") == "en"
    assert Translator("zh_CN").gettext("Sign in") == "登录"
    assert Translator("en").gettext("Sign in") == "Sign in"
    assert Translator("zh_CN").gettext("Good day, %(name)s", name="张三") == "张三，您好"


def test_parameters_are_escaped_in_templates() -> None:
    rendered = Translator("en").markup_gettext("Good day, %(name)s", name="<script>")
    assert "<script>" not in rendered
    assert "&lt;script&gt;" in rendered


def test_catalogue_is_loaded_once() -> None:
    assert catalogue("zh_CN") is catalogue("zh_CN")
