"""Invalid settings as one line per variable (faqstream/config_errors.py): the variable named as the
user sets it, the value repeated unless it is a secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from faqstream.config_errors import invalid
from service.records.store import RecordSettings
from service.settings.database import DatabaseSettings


def test_a_secret_setting_is_named_but_its_value_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresq://shop:s3cretpw@db.internal:5432/faqstream")
    with pytest.raises(ValidationError) as caught:
        DatabaseSettings()
    message = invalid(caught.value)
    assert "DATABASE_URL" in message
    assert "s3cretpw" not in message and "db.internal" not in message


def test_an_ordinary_setting_repeats_what_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECORDS_RETENTION_DAYS", "forever")
    with pytest.raises(ValidationError) as caught:
        RecordSettings()
    message = invalid(caught.value)
    assert "RECORDS_RETENTION_DAYS" in message and "'forever'" in message
