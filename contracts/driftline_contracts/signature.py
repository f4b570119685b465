"""A model's input signature: the columns, types and category domains it was trained on.

Training records it with every version (``ModelTrained.signature`` and the run's
``signature.json`` beside the model); deployment checks each served row against the
signature of the version that serves it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from driftline_contracts.values import Name, ShortText, Value

ColumnType = Literal["number", "integer", "boolean", "string"]
MAX_CATEGORIES = 200
"""A string column with more distinct values than this keeps no domain (free text, ids)."""


class ColumnSignature(Value):
    """One input column as the model saw it in training."""

    name: Name = Field(description="Column name.")
    dtype: ColumnType = Field(description="number, integer, boolean or string.")
    nullable: bool = Field(description="Whether the training data had empty values here.")
    categories: Annotated[list[ShortText], Field(max_length=MAX_CATEGORIES)] | None = Field(
        None,
        description="String columns: every value seen in training (sorted); null: numeric, "
        f"or more than {MAX_CATEGORIES} distinct values (no domain kept).",
    )


class InputSignature(Value):
    """The columns a model version expects, in the order it was trained on them."""

    columns: Annotated[list[ColumnSignature], Field(max_length=5000)] = Field(
        description="Input columns, in training order."
    )
