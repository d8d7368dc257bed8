"""``faqstream ingest``: the documents of PATH… into the knowledge base — here (the embedded store or
a Qdrant server, with a progress bar on a terminal) or, with ``--server URL``, through the running
service's ``/admin/ingest`` (``SERVICE_ADMIN_KEY``). Either way the same report and exit codes: 0,
1 when files were skipped (not for files ignored with a notice: an evaluation set or ticket
export in the folder), 2 when the safeguard refused the run (``ingest.safeguard``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.pipeline import IngestPipeline
    from ingest.report import IngestReport
    from knowledge.search import KnowledgeBase
    from knowledge.settings import Settings
    from service.privacy.settings import PrivacySettings


def pipeline(kb: KnowledgeBase, settings: Settings, privacy: PrivacySettings | None = None) -> IngestPipeline:
    """The ingest pipeline of ``kb`` with the scan of the documents' contact data, which the service
    leaves unredacted (``service.privacy.contacts``; ``privacy``: PRIVACY_PHONE_REGIONS, from the
    environment when not given)."""
    from ingest.pipeline import IngestPipeline
    from service.privacy.contacts import KbContactScan
    from service.privacy.settings import PrivacySettings

    scan = KbContactScan((privacy or PrivacySettings()).phone_regions)
    return IngestPipeline(kb.store, kb.embedder, kb.sparse, kb.require_languages(), settings, contacts=scan)


def run(args: argparse.Namespace, settings: Settings) -> int:
    return _remote(args) if args.server else _local(args, settings)


def _local(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.search import KnowledgeBase

    kb = KnowledgeBase.open(settings)
    try:
        ingest = pipeline(kb, settings)
        show_bar = sys.stderr.isatty() and not args.json and not args.no_progress
        bars: list[Any] = []

        def progress(done: int, total: int) -> None:
            if not show_bar:
                return
            if not bars:
                import shutil

                from tqdm import tqdm

                # A terminal that reports no size (some ptys) would make tqdm print nothing.
                size = shutil.get_terminal_size(fallback=(80, 24))
                bars.append(
                    tqdm(
                        total=total,
                        unit="doc",
                        desc="embedding",
                        file=sys.stderr,
                        ncols=size.columns or 80,
                        nrows=size.lines or 24,
                    )
                )
            bars[0].update(done - bars[0].n)

        report = ingest.run(
            args.paths,
            prune=args.prune,
            rebuild=args.rebuild,
            dry_run=args.dry_run,
            force=args.force,
            progress=progress,
        )
        for bar in bars:
            bar.close()
    finally:
        kb.store.close()
    print(report.to_json() if args.json else report.summary())
    if not args.json:
        for line in [*language_notes(settings.ingest.languages), *contact_note(report.reachable_at)]:
            print(line)
    return _exit_code(report)


def contact_note(reachable_at: Sequence[str]) -> list[str]:
    """When a handoff reaches no one and gives no address (HANDOFF_CONTACT and HANDOFF_WEBHOOK_URL
    unset), the addresses the documents publish, to set HANDOFF_CONTACT to: customers told "contact
    our support team directly" are otherwise given none (new users' trials, three of three)."""
    import phonenumbers
    from pydantic import ValidationError

    from service.handoff.settings import HandoffSettings

    try:
        handoff = HandoffSettings()
    except ValidationError:  # the service will say what is wrong with its settings
        return []
    if handoff.contact or handoff.webhook_url or not reachable_at:
        return []

    def readable(value: str) -> str:  # "+4922198765400" → "+49 221 98765400"
        if "@" in value:
            return value
        if not value.startswith("+"):  # no country is guessed (a Swiss page's 0800 is not French)
            return f"{value} (no country code)"
        international = phonenumbers.PhoneNumberFormat.INTERNATIONAL
        return phonenumbers.format_number(phonenumbers.parse(value), international)

    # Each kind shown (e-mail addresses come first in ``reachable_at``, phone numbers after them):
    # a list of four e-mail addresses "and 2 more" hid that the two were the phone numbers.
    emails = [value for value in reachable_at if "@" in value]
    phones = [value for value in reachable_at if "@" not in value]
    phones = phones[: _SHOWN_CONTACTS // 2 if emails else _SHOWN_CONTACTS]
    picked = emails[: _SHOWN_CONTACTS - len(phones)] + phones
    shown = [readable(value) for value in picked]
    left = len(reachable_at) - len(picked)
    more = f" (and {left} more)" if left else ""
    return [
        f"  HANDOFF_CONTACT is unset: a customer handed to a person is told to contact your support "
        f"directly, with no address. Your documents publish {', '.join(shown)}{more}: set "
        "HANDOFF_CONTACT to the one customers should use (shown as is), or HANDOFF_WEBHOOK_URL "
        "(docs/agents.md)"
    ]


_SHOWN_CONTACTS = 4


def language_notes(languages: Sequence[str]) -> list[str]:
    """What the product ships for each configured language, where it ships less: no calibration
    probes (questions in it are judged against the other languages' unrelated questions) or no
    built-in texts (its notices and small-talk replies are English)."""
    from knowledge.answerability_probes import OFF_TOPIC
    from knowledge.language import base_language
    from service.handoff.messages import message_language

    codes = list(dict.fromkeys(base_language(code) for code in languages))
    no_probes = [code for code in codes if code not in OFF_TOPIC]
    no_texts = [code for code in codes if message_language(code) == "en" != code]  # English stands in
    notes = []
    if no_probes:
        notes.append(
            f"  {', '.join(no_probes)}: no built-in calibration questions — the relevance cut-off judges "
            "questions in it against the other languages' unrelated questions (docs/handoff-and-languages.md)"
        )
    if no_texts:
        notes.append(
            f"  {', '.join(no_texts)}: no built-in texts — handoff notices and small-talk replies are "
            "English; Claude's answers are in the customer's language"
        )
    return notes


def _exit_code(report: IngestReport) -> int:
    from faqstream.cli import EXIT_OK, EXIT_SKIPPED, EXIT_USAGE

    if report.refused:  # a dry run whose real run would be refused
        return EXIT_USAGE
    return EXIT_SKIPPED if report.skipped else EXIT_OK


def _remote(args: argparse.Namespace) -> int:
    import json
    import urllib.error
    import urllib.request

    from knowledge.errors import FaqstreamError, IngestRefusedError
    from service.settings.service import ServiceSettings

    key = ServiceSettings().admin_key
    body = json.dumps(
        {
            "paths": [str(p.resolve()) for p in args.paths],
            "prune": args.prune,
            "rebuild": args.rebuild,
            "dry_run": args.dry_run,
            "force": args.force,
        }
    ).encode()
    request = urllib.request.Request(
        args.server.rstrip("/") + "/admin/ingest",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key.get_secret_value() if key else ''}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=3600) as response:
            data = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        from faqstream.remote import error_body, refused

        error = error_body(exc.read().decode(errors="replace"))
        if error.get("code") == IngestRefusedError.code:  # the service's safeguard: same as local
            details = error.get("details") or {}
            raise IngestRefusedError(
                str(error.get("message", "")),
                reason=str(details.pop("reason", "")),
                hint=details.pop("hint", None),
                details=details,
            ) from None
        raise refused(exc.code, error, str(exc.reason), key_sent=key is not None) from None
    except OSError as exc:
        raise FaqstreamError(f"cannot reach the service at {args.server}: {exc}") from exc
    from ingest.report import IngestReport, SkippedFile

    data.pop("counts", None)  # derived from the lists: the report computes its own
    skipped = [SkippedFile(**s) for s in data.pop("skipped", [])]
    ignored = [SkippedFile(**s) for s in data.pop("ignored", [])]
    report = IngestReport(**data, skipped=skipped, ignored=ignored)
    print(report.to_json() if args.json else report.summary())
    return _exit_code(report)
