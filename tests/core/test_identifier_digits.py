from __future__ import annotations

import pytest

from bankcrm.core.validation import IdentifierError, normalise_mobile, parse_card_number, parse_resident_id


@pytest.mark.parametrize("mobile", ["13٠٠٠٠٠٠٠٠٠", "1391234567٨", "13912345²78"])
def test_mobile_number_takes_only_ascii_digits(mobile: str) -> None:
    with pytest.raises(IdentifierError):
        normalise_mobile(mobile)


def test_full_width_mobile_digits_are_still_normalised() -> None:
    assert normalise_mobile("１３９１２３４５６７８") == "13912345678"


@pytest.mark.parametrize("card", ["6222²²²²²²²²²²²²²²", "622202١٢٣٤٥٦٧٨٩٠١٢٣"])
def test_card_number_with_other_digits_is_an_identifier_error(card: str) -> None:
    with pytest.raises(IdentifierError, match="16 to 19 digits"):
        parse_card_number(card)


def test_resident_id_with_other_digits_is_an_identifier_error() -> None:
    with pytest.raises(IdentifierError) as error:
        parse_resident_id("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")
    assert error.value.rule == "id.characters"


def test_user_mobile_with_arabic_indic_digits_is_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    unit = client.get("/api/v1/org-units", params={"q": "BJ-HD-T1"}).json()["items"][0]
    response = client.post(
        "/api/v1/users",
        json={
            "username": "digits.test",
            "display_name": "数字测试",
            "mobile": "13٠٠٠٠٠٠٠٠٠",
            "org_unit_id": unit["id"],
            "role": "relationship_manager",
            "password": "Brand!New-Colleague-2027",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mobile"
