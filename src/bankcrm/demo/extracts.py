"""Source-system extracts as the bank's systems deliver them, with their own problems, and the truth.

One synthetic population of people and companies is written out the way four systems see it:

* core banking — ``core_customers_<date>.csv`` (UTF-8) for everyone, plus ``core_txn_<date>.csv``;
* card system — ``cards_customers_<date>.txt``, fixed width in GB18030, names often in traditional
  characters, some old phone numbers;
* online banking — ``online_users_<date>.csv``, self-typed: full-width digits, swapped characters,
  missing e-mails, a few invalid ID numbers;
* ``ground_truth.csv`` — which source records are the same real person.

Deterministic for a seed; sizes from a few hundred to a million people.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import opencc
from pypinyin import lazy_pinyin

from bankcrm.core.formatting import business_today
from bankcrm.core.validation import resident_id_check_char, uscc_check_char
from bankcrm.demo.bank import CITIES, COMPANIES, GIVEN, OCCUPATIONS, REGIONS, STREETS, random_name

CORE_COLUMNS = [
    "CUST_NO",
    "BRANCH",
    "CUST_NAME",
    "CERT_TYPE",
    "CERT_NO",
    "MOBILE",
    "EMAIL",
    "ADDR",
    "OCCUPATION",
    "RISK_LEVEL",
    "RISK_DATE",
    "UPDATED",
]
ONLINE_COLUMNS = ["user_id", "real_name", "cert_type", "cert_no", "phone", "mail", "last_login"]
TXN_COLUMNS = [
    "TXN_NO",
    "CUST_NO",
    "ACCT_NO",
    "TXN_TIME",
    "DR_CR",
    "AMT",
    "CCY",
    "CATEGORY",
    "CHANNEL",
    "COUNTERPARTY",
    "MEMO",
]
BRANCHES = ("BJ-HD", "BJ-CY", "SH-PD")


@dataclass(frozen=True)
class Person:
    number: int
    corporate: bool
    name: str
    id_number: str
    mobile: str
    old_mobile: str
    email: str
    address: str
    occupation: str
    branch: str


@dataclass
class ExtractSummary:
    people: int
    core: int
    cards: int
    online: int
    transactions: int
    folder: Path


def _person(rng: random.Random, number: int, today: date) -> Person:
    corporate = rng.random() < 0.08
    region, city = rng.choice(CITIES)
    if corporate:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        first17 = "91" + rng.choice(REGIONS) + "".join(rng.choice(alphabet) for _ in range(9))
        identifier = first17 + uscc_check_char(first17)
        name = f"{city[:2]}{rng.choice(COMPANIES)}{rng.choice(GIVEN)}{rng.choice(GIVEN)}有限公司"
    else:
        birth = today - timedelta(days=rng.randrange(20 * 365, 85 * 365))
        first17 = f"{region}{birth:%Y%m%d}{number % 999 + 1:03d}"
        identifier = first17 + resident_id_check_char(first17)
        name = random_name(rng)
    return Person(
        number=number,
        corporate=corporate,
        name=name,
        id_number=identifier,
        mobile=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
        old_mobile=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
        email=f"user{number}@example.com.cn",
        address=f"{city}{rng.choice(STREETS)}{rng.randrange(1, 500)}号",
        occupation=rng.choice(OCCUPATIONS),
        branch=rng.choice(BRANCHES),
    )


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def _typo(rng: random.Random, name: str) -> str:
    """A swapped pair of characters or a dropped one: what self-registration produces."""
    if len(name) >= 3 and rng.random() < 0.5:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name


def _passport_spelling(name: str) -> str:
    """Surname, then given name, in capital pinyin without tones (single-character surnames only)."""
    syllables = lazy_pinyin(name)
    return f"{syllables[0]} {''.join(syllables[1:])}".upper()


def fit_bytes(text: str, width: int, encoding: str = "gb18030") -> str:
    """``text`` padded with spaces to ``width`` bytes in ``encoding`` (cut at a whole character if longer),
    as a host system lays out a fixed-width record."""
    while len(text.encode(encoding)) > width:
        text = text[:-1]
    return text + " " * (width - len(text.encode(encoding)))


def write_extracts(
    folder: Path, *, people: int, seed: int, today: date | None = None, transactions_per_customer: int = 20
) -> ExtractSummary:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    today = today or business_today()
    stamp = today.strftime("%Y%m%d")
    to_traditional = opencc.OpenCC("s2t")
    population = [_person(rng, number, today) for number in range(1, people + 1)]
    counts = {"core": 0, "cards": 0, "online": 0, "transactions": 0}
    with (
        (folder / f"core_customers_{stamp}.csv").open("w", encoding="utf-8", newline="") as core_file,
        (folder / f"online_users_{stamp}.csv").open("w", encoding="utf-8", newline="") as online_file,
        (folder / f"cards_customers_{stamp}.txt").open("w", encoding="gb18030", newline="") as cards_file,
        (folder / "ground_truth.csv").open("w", encoding="utf-8", newline="") as truth_file,
    ):
        core, online, truth = csv.writer(core_file), csv.writer(online_file), csv.writer(truth_file)
        core.writerow(CORE_COLUMNS)
        online.writerow(ONLINE_COLUMNS)
        truth.writerow(["person", "source", "source_customer_no"])
        for person in population:
            core_no = f"K{person.number:09d}"
            core.writerow(
                [
                    core_no,
                    person.branch,
                    person.name,
                    "20" if person.corporate else "01",
                    person.id_number,
                    person.mobile,
                    person.email if rng.random() < 0.6 else "",
                    person.address,
                    "" if person.corporate else person.occupation,
                    "" if person.corporate else "C3",
                    "" if person.corporate else (today - timedelta(days=rng.randrange(400))).isoformat(),
                    f"{today.isoformat()} 02:00:00",
                ]
            )
            truth.writerow([person.number, "core", core_no])
            counts["core"] += 1
            if not person.corporate and rng.random() < 0.35:
                card_no = f"C{person.number:011d}"
                name = to_traditional.convert(person.name) if rng.random() < 0.4 else person.name
                phone = person.old_mobile if rng.random() < 0.2 else person.mobile
                # Widths count characters, as the card mapping reads them.
                cards_file.write(f"{card_no:<12}{fit_bytes(name, 10)}I1{person.id_number:<18}{phone:<16}\n")
                truth.writerow([person.number, "cards", card_no])
                counts["cards"] += 1
            if not person.corporate and rng.random() < 0.6:
                user = f"U{person.number:08d}"
                id_number, id_type = person.id_number, "ID"
                roll = rng.random()
                if roll < 0.02:  # mistyped ID: its check character fails and the record is rejected
                    id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
                elif roll < 0.06:  # registered with a passport: only probabilistic matching finds this one
                    id_number, id_type = f"E{rng.randrange(10**8):08d}", "PASSPORT"
                phone = _full_width(person.mobile) if rng.random() < 0.3 else person.mobile
                name = _typo(rng, person.name) if rng.random() < 0.1 else person.name
                if id_type == "PASSPORT" and rng.random() < 0.6:
                    name = _passport_spelling(person.name)  # as printed in the passport: ZHANG WEIMIN
                    if rng.random() < 0.5:
                        phone = person.old_mobile  # and an old number: too little agrees to merge unseen
                online.writerow(
                    [
                        user,
                        name,
                        id_type,
                        id_number,
                        phone,
                        person.email if rng.random() < 0.5 else "",
                        f"{today.isoformat()} 08:{rng.randrange(60):02d}:00",
                    ]
                )
                truth.writerow([person.number, "online", user])
                counts["online"] += 1
    counts["transactions"] = _write_transactions(
        folder / f"core_txn_{stamp}.csv", population, rng, today, transactions_per_customer
    )
    return ExtractSummary(
        people=people,
        core=counts["core"],
        cards=counts["cards"],
        online=counts["online"],
        transactions=counts["transactions"],
        folder=folder,
    )


def _write_transactions(
    path: Path, population: list[Person], rng: random.Random, today: date, per_customer: int
) -> int:
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TXN_COLUMNS)
        for person in population:
            for serial in range(rng.randrange(per_customer // 2, per_customer * 3 // 2 + 1)):
                day = today - timedelta(days=rng.randrange(1, 60))
                salary = serial == 0
                written += 1
                writer.writerow(
                    [
                        f"J{person.number:09d}{serial:04d}",
                        f"K{person.number:09d}",
                        f"6222{person.number:012d}",
                        f"{day.isoformat()} {rng.randrange(8, 22):02d}:00:00",
                        "C" if salary else "D",
                        f"{rng.randrange(5000, 30000) if salary else rng.randrange(5, 3000)}"
                        f".{rng.randrange(100):02d}",
                        "CNY",
                        "salary" if salary else rng.choice(("groceries", "dining", "shopping")),
                        "online" if salary else rng.choice(("pos", "mobile", "counter")),
                        "工资代发" if salary else "商户",
                        "",
                    ]
                )
    return written
