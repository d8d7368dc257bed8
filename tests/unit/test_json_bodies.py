"""The JSON body checks made before decoding (service/api/bodies.py): the depth measured on raw
bytes equals the real nesting of any JSON document, whatever its strings hold; media types."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.api.bodies import check_shape, is_json_media_type, json_depth
from service.api.errors import BodyShapeError

# Strings full of what could confuse a byte scanner: brackets, quotes, backslashes.
TRICKY = st.text(alphabet=st.sampled_from("[]{}\"\\'/ aé\u2028\x00"), max_size=12)
DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TRICKY, inner, max_size=4),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@given(DOCUMENTS, st.booleans())
@settings(max_examples=400, deadline=None)
def test_measured_depth_is_the_real_depth(document: Any, ascii_only: bool) -> None:
    raw = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert json_depth(raw) == depth(document)
    spaced = json.dumps(document, indent=1, ensure_ascii=ascii_only).encode()
    assert json_depth(spaced) == depth(document)


def test_deep_bodies_are_refused_and_shallow_ones_pass() -> None:
    check_shape(b'{"question": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', max_depth=3)
    check_shape(b'  {"a": [[[]]]}', max_depth=4)
    with pytest.raises(BodyShapeError) as refused:
        check_shape(b'{"a": [[[[]]]]}', max_depth=4)
    assert refused.value.body_details() == {"reason": "too_deep", "limit": 4}
    with pytest.raises(BodyShapeError):
        check_shape(b"[" * 1_000_000, max_depth=32)
    for not_an_object in (b"", b"[]", b'"x"', b"7", b"\xef\xbb\xbf{}"):
        with pytest.raises(BodyShapeError) as refused:
            check_shape(not_an_object, max_depth=32)
        assert refused.value.body_details() == {"reason": "not_an_object"}


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ('application/json; charset="utf-8"', True),
        ("application/vnd.api+json", True),
        ("application/json; charset=iso-8859-1", False),
        ("text/plain", False),
        ("text/json", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/jsonp", False),
        ("", False),
    ],
)
def test_media_types(content_type: str, accepted: bool) -> None:
    assert is_json_media_type(content_type) is accepted
