"""Commands run through a running service (``--server URL``): the admin API with SERVICE_ADMIN_KEY.

The embedded store is held by the service's process, so while it runs ``faqstream ingest``,
``search`` and ``status`` reach the knowledge base through ``/admin/*`` instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from knowledge.errors import FaqstreamError

ADMIN_KEY_HINT = "set SERVICE_ADMIN_KEY to the service's admin key (the one it was started with)"
# What to do about a refusal, by the service's error code (else by status: the key).
HINTS = {
    "ingest_path_forbidden": "admin ingest reads only under the service's SERVICE_INGEST_ROOTS: set it on "
    """the service (a JSON list of absolute folders on its machine, e.g. '["/srv/policies"]') and """
    "restart it, then give paths under those folders",
}


# A 404 to a request that carried a key: the service's admin endpoints are off (it answers 404, not
# 401, so that they are not advertised) — the key here is fine, the service needs one (a trial).
ADMIN_OFF_HINT = (
    "the service's admin endpoints are off: start it with SERVICE_ADMIN_KEY set (the key given here), "
    "or create a database key with the admin scope (`faqstream keys create --scope admin …`)"
)


def refused(status: int, error: dict[str, Any], reason: str, key_sent: bool = False) -> FaqstreamError:
    """The service's refusal as one line (its message, never the raw body) and the fix
    (``key_sent``: this command presented an admin key)."""
    code = str(error.get("code") or "")
    if status == 404 and key_sent:
        hint: str | None = ADMIN_OFF_HINT
    else:
        hint = HINTS.get(code) or (ADMIN_KEY_HINT if status in (401, 403, 404) else None)
    return FaqstreamError(f"the service answered {status}: {error.get('message') or reason}", hint=hint)


def admin_key() -> str:
    from service.settings.service import ServiceSettings

    key = ServiceSettings().admin_key
    return key.get_secret_value() if key else ""


def request(server: str, path: str, body: dict[str, Any] | None = None, timeout: float = 60) -> Any:
    """GET (no ``body``) or POST ``server + path`` as the admin; the decoded JSON answer."""
    key = admin_key()
    req = urllib.request.Request(
        server.rstrip("/") + path,
        data=json.dumps(body).encode() if body is not None else None,
        method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        error = error_body(exc.read().decode(errors="replace"))
        raise refused(exc.code, error, str(exc.reason), key_sent=bool(key)) from None
    except OSError as exc:
        raise FaqstreamError(
            f"cannot reach the service at {server}: {exc}",
            hint="check the URL (the one `faqstream serve` printed: serving on …)",
        ) from None


def error_body(raw: str) -> dict[str, Any]:
    """The ``error`` object of the service's JSON error body, or {} when it is not one."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}
