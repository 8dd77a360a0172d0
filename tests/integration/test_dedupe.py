"""``bankcrm dedupe`` and ``bankcrm link`` on files a user brings: duplicates found in Chinese and in
Latin script, across scripts and across files; every record in exactly one cluster; bad input
named, exit code 2, nothing written."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import Result
from typer.testing import CliRunner

from bankcrm.cli import app
from bankcrm.demo.bank import random_name
from bankcrm.demo.extracts import write_extracts
from bankcrm.integration.names import name_reading
from bankcrm.integration.service.dedupe.model import MAX_BLOCK_SIZE, add_blocking_keys
from bankcrm.integration.service.dedupe.roles import name_fields, standard_date, standard_phone

pytestmark = pytest.mark.slow
LATIN_GIVEN = (
    "Jonathan",
    "Emily",
    "Oliver",
    "Sophie",
    "Daniel",
    "Grace",
    "Thomas",
    "Hannah",
    "Samuel",
    "Chloe",
    "Lucas",
    "Amelia",
    "Henry",
    "Isla",
    "Wei",
    "Mei",
    "Jun",
    "Lan",
    "Hao",
    "Ying",
)
LATIN_SURNAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Wilson",
    "Evans",
    "Thomas",
    "Johnson",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Zhang",
    "Wang",
    "Li",
    "Chen",
)


# --- data made by code -------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in text)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def birth(rng: random.Random) -> date:
    return date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))


def chinese_people(rng: random.Random, count: int) -> list[dict[str, str]]:
    return [
        {
            "cust_id": f"P{number:04d}",
            "name": random_name(rng),
            "birth": birth(rng).isoformat(),
            "mobile": mobile(rng),
            "mail": f"p{number}@example.cn" if rng.random() < 0.7 else "",
        }
        for number in range(1, count + 1)
    ]


def latin_people(rng: random.Random, count: int) -> list[dict[str, str]]:
    return [
        {
            "ref": f"L{number:04d}",
            "first": rng.choice(LATIN_GIVEN),
            "last": rng.choice(LATIN_SURNAMES),
            "dob": birth(rng).isoformat(),
            "email": f"l{number}@example.co.uk",
            "postcode": f"SW{rng.randrange(1, 20)} {rng.randrange(1, 9)}AB",
        }
        for number in range(1, count + 1)
    ]


# --- running the command and reading what it wrote --------------------------------------------


def bankcrm(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def clusters_of(out: Path, *, with_source: bool = False) -> dict[str, str]:
    """Record (or "source:id" when linking) → cluster id, checking each record appears once."""
    rows = read_rows(out / "clusters.csv")
    keys = [f"{row['source']}:{row['id']}" if with_source else row["id"] for row in rows]
    assert len(keys) == len(set(keys)), "a record appears in more than one cluster"
    return {key: row["cluster_id"] for key, row in zip(keys, rows, strict=True)}


def assert_together(clusters: dict[str, str], *keys: str) -> None:
    assert len({clusters[key] for key in keys}) == 1, {key: clusters[key] for key in keys}


def pair_accuracy(clusters: dict[str, str], people: Iterable[list[str]]) -> tuple[float, float]:
    true_pairs = {frozenset(pair) for records in people for pair in combinations(records, 2)}
    groups: dict[str, list[str]] = defaultdict(list)
    for key, cluster in clusters.items():
        groups[cluster].append(key)
    found = {frozenset(pair) for group in groups.values() for pair in combinations(group, 2)}
    hits = len(found & true_pairs)
    return hits / max(len(found), 1), hits / max(len(true_pairs), 1)


CHINESE_ROLES = ("--column", "full_name=name", "--column", "birth_date=birth", "--column", "phone=mobile")
CHINESE_ROLES += ("--column", "email=mail")


# --- behaviours --------------------------------------------------------------------------------


def test_values_are_standardised_before_they_are_compared() -> None:
    assert standard_phone("+86 138 0000 1111") == standard_phone("１３８００００１１１１") == "13800001111"
    assert standard_phone("010-6275 1234") == "01062751234"  # a landline still compares with itself
    assert {standard_date(v) for v in ("1990-01-02", "1990/1/2", "1990年1月2日", "19900102")} == {
        "1990-01-02"
    }
    assert standard_date("02/01/1990") is None  # day or month first? Not guessed.
    readings = [
        name_fields("张伟", "", ""),
        name_fields("ZHANG WEI", "", ""),
        name_fields("", "Wei", "Zhang"),
    ]
    assert {fields["name_key"] for fields in readings} == {"weizhang"}
    assert name_fields("Wei Zhang", "", "")["name_key"] == "weizhang"


def test_duplicates_in_a_chinese_file_are_found_despite_typos_old_phones_and_full_width_digits(
    tmp_path: Path,
) -> None:
    rng = random.Random(7)
    people = chinese_people(rng, 240)
    duplicates = []
    for number, person in enumerate(people[:30]):
        copy = {**person, "cust_id": f"D{number:04d}"}
        kind = number % 3
        if kind == 0 and len(person["name"]) == 3:
            copy["name"] = person["name"][0] + person["name"][2] + person["name"][1]  # swapped characters
        elif kind == 0:
            copy["name"] = person["name"] + rng.choice("明华")  # one character too many
        elif kind == 1:
            copy["mobile"] = mobile(rng)  # an old number
        else:
            copy["mobile"] = full_width(person["mobile"])  # typed on a phone keyboard
            copy["birth"] = copy["birth"].replace("-", "/")
        duplicates.append(copy)
    source = write_csv(tmp_path / "branch.csv", people + duplicates)

    result = bankcrm("dedupe", source, "--id-column", "cust_id", *CHINESE_ROLES, "--out", tmp_path / "out")

    assert result.exit_code == 0, result.output
    clusters = clusters_of(tmp_path / "out")
    assert set(clusters) == {row["cust_id"] for row in people + duplicates}
    truth = [[person["cust_id"], copy["cust_id"]] for person, copy in zip(people, duplicates, strict=False)]
    precision, recall = pair_accuracy(clusters, truth)
    assert precision == 1.0
    assert recall >= 0.95, recall
    pairs = read_rows(tmp_path / "out" / "pairs.csv")
    assert set(pairs[0]) == {"id_l", "id_r", "match_probability", "match_weight", "name", "birth_date"} | {
        "phone",
        "email",
    }
    assert all(float(pair["match_probability"]) >= 0.8 for pair in pairs)
    assert "Records: 270; pairs at or above 0.8: " in result.output
    assert "; clusters at 0.99: " in result.output


def test_a_latin_file_with_split_names_finds_swapped_and_differently_written_names(tmp_path: Path) -> None:
    rng = random.Random(3)
    people = latin_people(rng, 200)
    duplicates = []
    for number, person in enumerate(people[:24]):
        copy = {**person, "ref": f"X{number:04d}"}
        if number % 3 == 0:
            copy["first"], copy["last"] = person["last"], person["first"]  # entered in the wrong boxes
        elif number % 3 == 1:
            copy["first"], copy["last"] = person["first"].upper(), person["last"].upper()
        else:
            copy["email"] = person["email"].upper()
            copy["postcode"] = person["postcode"].replace(" ", "").lower()
        duplicates.append(copy)
    source = write_csv(tmp_path / "purchased.csv", people + duplicates)

    result = bankcrm(
        "dedupe",
        source,
        "--id-column",
        "ref",
        *("--column", "given_name=first", "--column", "surname=last", "--column", "birth_date=dob"),
        *("--column", "email=email", "--column", "postcode=postcode"),
    )

    assert result.exit_code == 0, result.output
    clusters = clusters_of(tmp_path / "purchased-dedupe")  # beside the input by default
    for person, copy in zip(people, duplicates, strict=False):
        assert_together(clusters, person["ref"], copy["ref"])
    precision, _ = pair_accuracy(
        clusters, [[p["ref"], c["ref"]] for p, c in zip(people, duplicates, strict=False)]
    )
    assert precision == 1.0


def test_a_name_in_characters_and_its_passport_spelling_are_one_person(tmp_path: Path) -> None:
    rng = random.Random(11)
    people = chinese_people(rng, 200)
    same = [
        {"cust_id": "A1", "name": "张伟民", "birth": "1980-05-06", "mobile": "13912345678", "mail": ""},
        {"cust_id": "A2", "name": "ZHANG WEIMIN", "birth": "1980-05-06", "mobile": "13912345678", "mail": ""},
        {"cust_id": "A3", "name": "Weimin Zhang", "birth": "1980-05-06", "mobile": "+86 139 1234 5678"}
        | {"mail": ""},
        {"cust_id": "B1", "name": "欧阳修", "birth": "1975-01-02", "mobile": "13698765432", "mail": ""},
        {"cust_id": "B2", "name": "OUYANG XIU", "birth": "1975-01-02", "mobile": "13698765432", "mail": ""},
    ]
    source = write_csv(tmp_path / "mixed.csv", people + same)

    result = bankcrm("dedupe", source, "--id-column", "cust_id", *CHINESE_ROLES, "--out", tmp_path / "out")

    assert result.exit_code == 0, result.output
    clusters = clusters_of(tmp_path / "out")
    assert_together(clusters, "A1", "A2", "A3")
    assert_together(clusters, "B1", "B2")
    assert clusters["A1"] != clusters["B1"]


def test_link_pairs_records_of_two_files_and_clusters_span_both(tmp_path: Path) -> None:
    rng = random.Random(5)
    people = chinese_people(rng, 180)
    first = write_csv(tmp_path / "core.csv", people)
    # The second file splits the name, spells some in pinyin, and names its columns its own way.
    others = []
    for number, person in enumerate(people[:60]):
        surname, given = person["name"][0], person["name"][1:]
        if number % 2 == 0:  # as a passport spells it: Weimin / Zhang
            surname, given = (name_reading(part) or "" for part in (surname, given))
            surname, given = surname.capitalize(), given.capitalize()
        others.append(
            {"no": f"W{number:03d}", "given": given, "family": surname, "birth": person["birth"]}
            | {"phone": person["mobile"], "mail": person["mail"]}
        )
    others += [
        {"no": f"W9{n:02d}", "given": "某", "family": "李", "birth": birth(rng).isoformat()}
        | {"phone": mobile(rng), "mail": ""}
        for n in range(20)
    ]
    second = write_csv(tmp_path / "wealth.csv", others, encoding="gb18030")

    result = bankcrm(
        "link",
        first,
        second,
        *("--id-column", "cust_id", "--id-column-b", "no"),
        *CHINESE_ROLES,
        *("--column-b", "given_name=given", "--column-b", "surname=family", "--column-b", "phone=phone"),
        "--out",
        tmp_path / "out",
    )

    assert result.exit_code == 0, result.output
    pairs = read_rows(tmp_path / "out" / "pairs.csv")
    assert pairs
    assert {(pair["source_l"], pair["source_r"]) for pair in pairs} == {("core.csv", "wealth.csv")}
    assert all(pair["id_l"].startswith("P") and pair["id_r"].startswith("W") for pair in pairs)
    clusters = clusters_of(tmp_path / "out", with_source=True)
    assert len(clusters) == len(people) + len(others)
    truth = [
        [f"core.csv:{p['cust_id']}", f"wealth.csv:{o['no']}"]
        for p, o in zip(people, others[:60], strict=False)
    ]
    precision, recall = pair_accuracy(clusters, truth)
    assert precision == 1.0
    assert recall >= 0.95, recall


def test_every_record_is_in_exactly_one_cluster_even_alone(tmp_path: Path) -> None:
    rows = chinese_people(random.Random(1), 40)
    source = write_csv(tmp_path / "few.csv", rows)

    result = bankcrm("dedupe", source, "--id-column", "cust_id", *CHINESE_ROLES, "--out", tmp_path / "out")

    assert result.exit_code == 0, result.output
    clusters = clusters_of(tmp_path / "out")
    assert sorted(clusters) == sorted(row["cust_id"] for row in rows)
    assert sorted(int(cluster) for cluster in clusters.values()) == list(range(1, 41))  # all singletons


def test_gb18030_input_is_detected_and_a_wrong_encoding_is_named(tmp_path: Path) -> None:
    rng = random.Random(2)
    people = chinese_people(rng, 150)
    twin = {**people[0], "cust_id": "T1", "mobile": full_width(people[0]["mobile"])}
    source = write_csv(tmp_path / "gb.csv", [*people, twin], encoding="gb18030")

    result = bankcrm("dedupe", source, "--id-column", "cust_id", *CHINESE_ROLES, "--out", tmp_path / "out")

    assert result.exit_code == 0, result.output
    assert_together(clusters_of(tmp_path / "out"), people[0]["cust_id"], "T1")
    wrong = bankcrm(
        "dedupe",
        source,
        "--id-column",
        "cust_id",
        *CHINESE_ROLES,
        "--encoding",
        "utf-8",
        "--out",
        tmp_path / "o2",
    )
    assert wrong.exit_code == 2
    assert "gb.csv is not utf-8" in wrong.output
    assert not (tmp_path / "o2").exists()


def bad_input_cases(folder: Path) -> dict[str, tuple[list[str | Path], str]]:
    people = chinese_people(random.Random(4), 12)
    good = write_csv(folder / "good.csv", people)
    twice = write_csv(folder / "twice.csv", [*people, {**people[0], "name": "重复"}])
    no_mail = write_csv(folder / "no_mail.csv", [{**p, "mail": ""} for p in people])
    spreadsheet = folder / "book.xlsx"
    spreadsheet.write_bytes(b"PK\x03\x04")
    header_only = folder / "header_only.csv"
    header_only.write_text("cust_id,name,birth,mobile,mail\n", encoding="utf-8")
    columns = "its columns are: cust_id, name, birth, mobile, mail."
    return {
        "unknown file": (
            [folder / "missing.csv", "--id-column", "cust_id", *CHINESE_ROLES],
            "No such file: ",
        ),
        "unknown column": (
            [good, "--id-column", "cust_id", "--column", "full_name=nom", "--column", "phone=mobile"],
            f"good.csv has no column 'nom' (given for full_name); {columns}",
        ),
        "unknown role": (
            [good, "--id-column", "cust_id", "--column", "nickname=name", "--column", "phone=mobile"],
            "Unknown role 'nickname' in --column nickname=name; roles are: full_name, given_name, surname, "
            "birth_date, id_number, phone, email, address, city, postcode.",
        ),
        "duplicate id": (
            [twice, "--id-column", "cust_id", *CHINESE_ROLES],
            f"twice.csv: the id '{people[0]['cust_id']}' appears more than once in 'cust_id'",
        ),
        "one role": (
            [good, "--id-column", "cust_id", "--column", "full_name=name"],
            "At least two usable roles are needed to tell people apart",
        ),
        "a role without values": (
            [no_mail, "--id-column", "cust_id", "--column", "full_name=name", "--column", "email=mail"],
            "without any value: email.",
        ),
        "id column missing": (
            [good, "--id-column", "number", *CHINESE_ROLES],
            f"good.csv has no id column 'number'; {columns}",
        ),
        "role without column": (
            [good, "--id-column", "cust_id", "--column", "full_name"],
            "--column expects ROLE=COLUMN, got 'full_name'.",
        ),
        "spreadsheet": (
            [spreadsheet, "--id-column", "cust_id", *CHINESE_ROLES],
            "book.xlsx: spreadsheets are not read directly; save the sheet as CSV (UTF-8) and pass that.",
        ),
        "header only": (
            [header_only, "--id-column", "cust_id", *CHINESE_ROLES],
            "header_only.csv has a header but no records.",
        ),
        "out is a file": (
            [good, "--id-column", "cust_id", *CHINESE_ROLES, "--out", good],
            f"--out {good} is a file; name a folder",
        ),
    }


BAD_INPUTS = (
    "unknown file",
    "unknown column",
    "unknown role",
    "duplicate id",
    "one role",
    "a role without values",
    "id column missing",
    "role without column",
    "spreadsheet",
    "header only",
    "out is a file",
)


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_named_exits_2_and_writes_nothing(tmp_path: Path, case: str) -> None:
    args, message = bad_input_cases(tmp_path)[case]
    before = sorted(tmp_path.iterdir())

    result = bankcrm("dedupe", *args)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert sorted(tmp_path.iterdir()) == before  # no output folder, nothing else


def test_link_refuses_a_role_given_for_the_second_file_only(tmp_path: Path) -> None:
    people = chinese_people(random.Random(6), 12)
    first, second = write_csv(tmp_path / "a.csv", people), write_csv(tmp_path / "b.csv", people)
    before = sorted(tmp_path.iterdir())

    result = bankcrm(
        "link", first, second, "--id-column", "cust_id", *CHINESE_ROLES, "--column-b", "city=mail"
    )

    assert result.exit_code == 2, result.output
    assert "Both files need the same roles to compare; given for one file only: city." in result.output
    assert sorted(tmp_path.iterdir()) == before


def test_a_parquet_file_is_read_like_a_csv(tmp_path: Path) -> None:
    rng = random.Random(8)
    people = chinese_people(rng, 120)
    twin = {**people[5], "cust_id": "T1", "name": people[5]["name"] + "明"}
    source = tmp_path / "list.parquet"
    pq.write_table(pa.Table.from_pylist([*people, twin]), source)

    result = bankcrm("dedupe", source, "--id-column", "cust_id", *CHINESE_ROLES, "--out", tmp_path / "out")

    assert result.exit_code == 0, result.output
    assert_together(clusters_of(tmp_path / "out"), people[5]["cust_id"], "T1")


def test_a_value_shared_by_too_many_records_is_not_blocked_on() -> None:
    """A placeholder phone typed for hundreds of records would pair all of them with each other."""
    records: list[dict[str, Any]] = [
        {"phone": "13800000000" if n < MAX_BLOCK_SIZE + 1 else f"139{n:08d}", "email": None}
        for n in range(MAX_BLOCK_SIZE + 10)
    ]

    add_blocking_keys(records, ["phone", "email"])

    assert {r["block_phone"] for r in records[: MAX_BLOCK_SIZE + 1]} == {None}
    assert records[-1]["block_phone"] == records[-1]["phone"]


def test_a_generated_extract_deduplicates_close_to_its_ground_truth(tmp_path: Path) -> None:
    folder = write_extracts(tmp_path / "x", people=400, seed=17, transactions_per_customer=1).folder
    rows = [
        {"id": r["CUST_NO"], "name": r["CUST_NAME"], "cert": r["CERT_NO"], "phone": r["MOBILE"]}
        | {"email": r["EMAIL"]}
        for r in read_rows(next(folder.glob("core_customers_*.csv")))
    ]
    rows += [
        {
            "id": r["user_id"],
            "name": r["real_name"],
            "cert": r["cert_no"],
            "phone": r["phone"],
            "email": r["mail"],
        }
        for r in read_rows(next(folder.glob("online_users_*.csv")))
    ]
    source = write_csv(tmp_path / "customers.csv", rows)
    people: dict[str, list[str]] = defaultdict(list)
    for truth in read_rows(folder / "ground_truth.csv"):
        if truth["source"] in ("core", "online"):
            people[truth["person"]].append(truth["source_customer_no"])

    result = bankcrm(
        "dedupe",
        source,
        "--id-column",
        "id",
        *("--column", "full_name=name", "--column", "id_number=cert"),
        *("--column", "phone=phone", "--column", "email=email"),
        "--out",
        tmp_path / "out",
    )

    assert result.exit_code == 0, result.output
    precision, recall = pair_accuracy(clusters_of(tmp_path / "out"), people.values())
    assert precision >= 0.99
    assert recall >= 0.97
