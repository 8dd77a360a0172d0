"""Length limits and patterns hold for the text as sent, before blanks are stripped."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bankcrm.identity.schemas import DisableIn, OrgUnitCreate


def test_reason_of_501_characters_is_refused_even_when_one_is_a_blank() -> None:
    with pytest.raises(ValidationError) as error:
        DisableIn.model_validate({"reason": "\u00a0" + "x" * 500})
    assert error.value.errors()[0]["type"] == "string_too_long"
    assert DisableIn.model_validate({"reason": "  left alone  "}).reason == "left alone"


def test_unit_code_with_a_blank_does_not_match_its_pattern_in_the_api(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin").client
    parent = client.get("/api/v1/org-units", params={"q": "BJ-HD"}).json()["items"][0]["id"]
    body = {"code": " T2X", "name": "新组", "kind": "team", "parent_id": parent}
    assert client.post("/api/v1/org-units", json=body).status_code == 422
    form = {**body, "code": " t2x ", "name_en": "", "parent_id": str(parent)}
    assert client.post("/admin/org-units/new", data=form).status_code == 303


def test_org_unit_name_is_still_trimmed() -> None:
    unit = OrgUnitCreate.model_validate({"code": "AB", "name": "  第一组 ", "kind": "team", "parent_id": 1})
    assert unit.name == "第一组"
