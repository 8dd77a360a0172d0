"""Pydantic in/out of the segmentation module."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    kind: Literal["dynamic", "static"] = "dynamic"
    rule: dict[str, Any]


TAG_CODE = r"^[a-z0-9_.-]{2,40}$"


class RuleTagIn(BaseModel):
    """A rule tag: customers meeting ``rule`` (segmentation.rules) hold it after each run."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=TAG_CODE)
    name: str = Field(min_length=1, max_length=60)
    category: Literal["basic", "behaviour", "value", "risk", "preference", "lifecycle"] = "behaviour"
    description: str | None = Field(default=None, max_length=300)
    rule: dict[str, Any]


class ModelTagIn(BaseModel):
    """A model tag: customers the active model for ``target`` puts in one of ``bands``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=TAG_CODE)
    name: str = Field(min_length=1, max_length=60)
    category: Literal["basic", "behaviour", "value", "risk", "preference", "lifecycle"] = "risk"
    description: str | None = Field(default=None, max_length=300)
    target: str = Field(default="churn", min_length=1, max_length=40)
    bands: list[Literal["high", "medium", "low"]] = Field(min_length=1)
