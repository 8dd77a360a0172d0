"""Mapping files: adding a source is a file; mistakes are reported with the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankcrm.integration.mapping import MappingError, load_mapping, registry

GOOD = """
[source]
code = "branch_list"
name = "分行名单"
kind = "customers"
file_pattern = "list_*.csv"
default_unit = "BJ"

[columns]
NO = "source_customer_no"
NAME = "name"
CERT = "id_number"
KIND = "id_type"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_sources_load() -> None:
    assert {"core", "cards", "online", "core_txn"} <= set(registry())


def test_a_new_source_is_just_a_file(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, GOOD))
    assert mapping.code == "branch_list"
    assert mapping.accepts("list_2026-11-29.csv")
    assert not mapping.accepts("other.csv")


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (('CERT = "id_number"', 'CERT = "id_numbr"'), 12, "unknown field 'id_numbr'"),
        (('kind = "customers"', 'kind = "people"'), 5, "kind 'people'"),
        (('NAME = "name"', 'NAME = "name"\nPIN_CODE = "name"'), 12, "authentication data"),
        (('file_pattern = "list_*.csv"', 'file_pattern = "list_*.csv"\nformat = "xml"'), 7, "format 'xml'"),
        (('code = "branch_list"', 'code = "branch_list'), 3, "not valid TOML"),
        (('default_unit = "BJ"', 'default_unit = "BJ"\nexpected_every_hours = 0'), 8, "expected_every_hours"),
        (
            ('KIND = "id_type"', 'KIND = "id_type"\n[rules]\nunique = ["mobil"]'),
            15,
            "unknown unique field 'mobil'",
        ),
    ],
)
def test_errors_name_the_line_of_the_mapping_file(
    tmp_path: Path, change: tuple[str, str], line: int, words: str
) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping(write(tmp_path, GOOD.replace(*change)))
    assert caught.value.line == line, str(caught.value)
    assert words in str(caught.value)
    assert f"line {line}" in str(caught.value)


def test_quality_settings_default_by_kind(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, GOOD))
    assert mapping.unique == ("source_customer_no", "id_number")
    assert mapping.expected_every_hours == 24


def test_fixed_width_needs_every_column_placed(tmp_path: Path) -> None:
    text = (
        GOOD.replace('default_unit = "BJ"', 'default_unit = "BJ"\nformat = "fixed"')
        + "\n[fixed]\nNO = [0, 10]\n"
    )
    with pytest.raises(MappingError, match="no \\[fixed\\] width"):
        load_mapping(write(tmp_path, text))


def test_fixed_width_positions_are_bytes_unless_the_mapping_says_characters(tmp_path: Path) -> None:
    fixed = GOOD.replace('default_unit = "BJ"', 'default_unit = "BJ"\nformat = "fixed"')
    placed = (
        "\n[fixed]\n"
        + "\n".join(f"{c} = [{i * 10}, {i * 10 + 10}]" for i, c in enumerate(("NO", "NAME", "CERT", "KIND")))
        + "\n"
    )
    assert load_mapping(write(tmp_path, fixed + placed)).fixed_unit == "bytes"
    in_characters = fixed.replace('format = "fixed"', 'format = "fixed"\nfixed_unit = "characters"')
    assert load_mapping(write(tmp_path, in_characters + placed)).fixed_unit == "characters"
    with pytest.raises(MappingError, match="fixed_unit 'columns' is not one of bytes, characters"):
        load_mapping(
            write(
                tmp_path,
                fixed.replace('format = "fixed"', 'format = "fixed"\nfixed_unit = "columns"') + placed,
            )
        )


def test_the_registry_sees_files_added_changed_and_removed(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD)
    assert registry(tmp_path)["branch_list"].trust == 50
    assert registry(tmp_path) is not registry(tmp_path)  # callers get their own dict
    (tmp_path / "other.toml").write_text(GOOD.replace("branch_list", "other_list"), encoding="utf-8")
    assert set(registry(tmp_path)) == {"branch_list", "other_list"}
    first.write_text(GOOD.replace('default_unit = "BJ"', 'default_unit = "BJ"\ntrust = 70'), encoding="utf-8")
    assert registry(tmp_path)["branch_list"].trust == 70
    first.unlink()
    assert set(registry(tmp_path)) == {"other_list"}
