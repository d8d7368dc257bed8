"""The tagging request and result model (service.jobs.tag_prompt): pure, no I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from fakes.anthropic_protocol import default_tool_input, validate_message_params
from service.jobs.tag_prompt import ConversationTag, Line, batch_request, tag_tool, transcript


def test_the_tool_schema_is_the_models_and_the_fakes_default_answer_validates() -> None:
    tool = tag_tool()
    schema = tool["input_schema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["properties"]["satisfaction"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 5,
        "description": "the customer's likely satisfaction, 1 (angry) to 5",
    }
    assert set(schema["required"]) == {"satisfaction", "escalate", "resolved", "reason"}
    request = batch_request("a" * 32, "Customer: hi", model="claude-haiku-4-5", max_tokens=400, language="de")
    params = validate_message_params(request["params"])  # a valid Messages request, tool forced
    assert params["tool_choice"] == {"type": "tool", "name": tool["name"]}
    assert '<conversation language="de">' in params["messages"][0]["content"]
    ConversationTag.model_validate(default_tool_input(params, tool))


@pytest.mark.parametrize(
    "bad",
    [
        {"satisfaction": 0, "escalate": False, "resolved": True, "reason": ""},
        {"satisfaction": 6, "escalate": False, "resolved": True, "reason": ""},
        {"satisfaction": 3, "escalate": False, "resolved": True},
        {"satisfaction": 3, "escalate": False, "resolved": True, "reason": "", "mood": "sad"},
        {"satisfaction": 3, "escalate": False, "resolved": True, "reason": "x" * 301},
    ],
)
def test_out_of_range_missing_or_extra_fields_do_not_validate(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ConversationTag.model_validate(bad)


def test_a_long_conversation_keeps_its_start_and_end() -> None:
    lines = [
        Line("customer" if i % 2 == 0 else "assistant", f"message {i} " + "word " * 40) for i in range(40)
    ]
    text = transcript(lines, handoff_reason="customer asked for a person", max_chars=1500)
    assert len(text) <= 1500 + 100
    assert text.startswith("Customer: message 0 ") and "Assistant: message 39 " in text
    assert "messages left out …]" in text and text.endswith(
        "[handed off to a person: customer asked for a person]"
    )


@given(
    st.lists(st.text(min_size=0, max_size=900), min_size=1, max_size=30),
    st.integers(min_value=200, max_value=5000),
)
def test_the_transcript_fits_keeps_the_first_message_and_never_reorders(texts: list[str], limit: int) -> None:
    lines = [Line("customer", f"#{i}# {t}") for i, t in enumerate(texts)]
    text = transcript(lines, message_chars=100, max_chars=limit)
    shown = [line for line in text.split("\n") if line.startswith("Customer: #")]
    order = [int(line.split("#")[1]) for line in shown]
    assert order[0] == 0 and order == sorted(order)
    assert sum(len(line) + 1 for line in shown) <= limit  # each line ≤ 110 chars, the limit ≥ 200
    if len(shown) < len(texts):
        assert f"[… {len(texts) - len(shown)} messages left out …]" in text
