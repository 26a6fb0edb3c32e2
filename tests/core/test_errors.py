"""One-line messages from pydantic's validation errors, shared by the CLI, web and rules."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError, model_validator

from core.errors import InvalidError, validation_message


class Form(BaseModel):
    key: str = Field(pattern=r"^[a-z]+$")
    examples: list[str] = Field(default_factory=list)
    limit: int = 1

    @model_validator(mode="after")
    def _check(self) -> Form:
        if self.limit > 10:
            raise ValueError("limit above 10")
        return self


def error(**data: object) -> ValidationError:
    try:
        Form.model_validate(data)
    except ValidationError as exc:
        return exc
    raise AssertionError("valid")


def test_fields_and_messages_on_one_line():
    exc = error(key="Bad", limit="x")
    assert validation_message(exc) == (
        "key: String should match pattern '^[a-z]+$'; "
        "limit: Input should be a valid integer, unable to parse string as an integer"
    )


def test_list_positions_read_as_ordinals():
    exc = error(key="ok", examples=["fine", 3])
    assert validation_message(exc) == "example 2: Input should be a valid string"


def test_model_validator_errors_take_the_given_field_and_lose_the_prefix():
    exc = error(key="ok", limit=11)
    assert validation_message(exc) == "limit above 10"
    assert validation_message(exc, where="params") == "params: limit above 10"


def test_hints_replace_unreadable_messages():
    exc = error(key="Bad")
    hints = {("key", "string_pattern_mismatch"): "lowercase letters only"}
    assert validation_message(exc, hints=hints) == "key: lowercase letters only"


def test_other_errors_are_their_own_text():
    assert validation_message(InvalidError("no such rule")) == "no such rule"
