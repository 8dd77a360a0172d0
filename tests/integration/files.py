"""Source files as the bank's systems would deliver them, for the ingestion tests."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from bankcrm.core.validation import resident_id_check_char
from bankcrm.demo.extracts import fit_bytes

CORE_HEADER = [
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


def resident_id(birth: date, serial: int) -> str:
    first17 = f"110108{birth:%Y%m%d}{serial:03d}"
    return first17 + resident_id_check_char(first17)


def core_row(
    number: str, name: str, id_number: str, mobile: str = "13800001111", **extra: str
) -> dict[str, str]:
    row = {
        "CUST_NO": number,
        "BRANCH": "BJ-HD",
        "CUST_NAME": name,
        "CERT_TYPE": "01",
        "CERT_NO": id_number,
        "MOBILE": mobile,
        "EMAIL": "",
        "ADDR": "北京市海淀区 中关村大街 1 号",
        "OCCUPATION": "工程师",
        "RISK_LEVEL": "C3",
        "RISK_DATE": "2026-06-01",
        "UPDATED": "2026-11-28 20:00:00",
    }
    row.update(extra)
    return row


def write_core(folder: Path, name: str, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header or CORE_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def cards_line(number: str, name: str, id_number: str, phone: str) -> str:
    """Fixed width in bytes of GB18030: 12 + 10 + 2 + 18 + 16 (a Chinese character takes two)."""
    return f"{number:<12}{fit_bytes(name, 10)}I1{id_number:<18}{phone:<16}"


def write_cards(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    return path


TXN_HEADER = [
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


def write_transactions(folder: Path, name: str, rows: list[dict[str, str]]) -> Path:
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=TXN_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def txn(number: str, customer: str, when: str, direction: str, amount: str) -> dict[str, str]:
    return {
        "TXN_NO": number,
        "CUST_NO": customer,
        "ACCT_NO": "6222020200001234",
        "TXN_TIME": when,
        "DR_CR": direction,
        "AMT": amount,
        "CCY": "CNY",
        "CATEGORY": "salary" if direction == "C" else "shopping",
        "CHANNEL": "online",
        "COUNTERPARTY": "某某公司",
        "MEMO": "",
    }
