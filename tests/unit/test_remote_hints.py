"""What the CLI says when a running service refuses a ``--server`` command (``faqstream.remote``)."""

from __future__ import annotations

from faqstream.remote import ADMIN_KEY_HINT, ADMIN_OFF_HINT, refused

NOT_FOUND = {"code": "not_found", "message": "admin endpoints are disabled (set SERVICE_ADMIN_KEY)"}


def test_a_404_to_a_command_that_sent_a_key_says_the_service_needs_one() -> None:
    """A trial: the CLI had SERVICE_ADMIN_KEY set and was told to set it; the service had none."""
    error = refused(404, NOT_FOUND, "Not Found", key_sent=True)
    assert error.hint == ADMIN_OFF_HINT and "start it with SERVICE_ADMIN_KEY" in error.hint
    assert "404" in str(error)


def test_without_a_key_or_with_a_wrong_one_the_hint_is_to_set_it() -> None:
    assert refused(404, NOT_FOUND, "Not Found", key_sent=False).hint == ADMIN_KEY_HINT
    assert refused(401, {"code": "unauthorized"}, "Unauthorized", key_sent=True).hint == ADMIN_KEY_HINT
