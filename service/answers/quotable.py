"""What of a document may be quoted to a customer word for word (extractive replies,
``service.answers.extractive``): its text without markup, minus the sentences that address the
reader as instructions. A knowledge base is written by the company, but a document can be
tampered with or copied from a hostile source, and an extractive reply relays it with no model in
between.

**Markup** (``strip_markup``): ``<script>`` and ``<style>`` elements go with their content, every
other HTML tag goes (its text stays; BeautifulSoup's parser), entities are decoded, and a Markdown
link or image whose target is ``javascript:``, ``vbscript:`` or ``data:`` keeps only its text.
Autolinks (``<https://…>``, ``<help@example.com>``) keep their address; other Markdown stays as
written (links to pages, lists, tables), a ``**bold**`` span is one unit (never cut into
sentences), and a quote loses a ``**``/``__`` that opens or closes nothing in it
(``balanced_emphasis``).

**Instructions to the reader** (``instruction_rule``; a sentence matching one is not quoted):

* ``override`` — asks to ignore, disregard, forget or override instructions, rules, prompts or
  guidelines ("Ignore previous instructions");
* ``role`` — poses as a chat role or new rules ("SYSTEM:", "assistant:", "New rule:") or talks to
  the assistant about itself: its system prompt, a "developer mode" or jailbreak, "you are now …"
  an unrestricted/admin mode, "reveal your prompt";
* ``secret`` — asks the reader to send a secret: a sending verb (email — not the noun "your
  email", "the email", "email address" —, send, text, reply, ask, message, DM, forward, mail, fax,
  call, share, give, provide, submit, tell) followed within six words by "your" and a card
  number, CVV/CVC, security code, PIN, password or passcode, one-time or verification code, login
  credentials, bank details or account password, social security number, seed or recovery
  phrase, or private key — not "your password reset/recovery …" ("Email your card number and CVV
  to …", "send us your password"); unless the sentence is negated ("We will never ask you to send
  your password").

Measured on normal text: no sentence of the Basecamp policies (1,584), ``data/policies`` (2,858)
or the Bitext customer-support replies (53,927) dropped (``python -m bench.quotable_filter``,
docs/benchmarks.md).
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from knowledge.sentences import segments

_TAG_START = re.compile(r"<[a-zA-Z/!?]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^\s<>]+|[^\s<>@]+@[^\s<>@]+\.[a-zA-Z]{2,})>")
_BAD_LINK = re.compile(
    r"(!?)\[([^\]]*)\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:(?:[^()]|\([^()]*\))*\)", re.I
)
_BAD_URL = re.compile(r"\b(?:javascript|vbscript)\s*:\S*", re.I)
# A list item's number or letter the segmenter cut off as a sentence of its own ("3.", "b)"), or
# left at the end of the sentence before it ("… Verbindung. 1.").
_MARKER = re.compile(r"(?:\d{1,3}|[a-zA-Z])[.)]")
_TRAILING_MARKER = re.compile(r"(?<=[.!?])\s+(?P<marker>\d{1,3}[.)]\s*)$")
_WORD = re.compile(r"\w")
_EMPHASIS = re.compile(r"\*\*|__")  # Markdown's strong emphasis, as the chunker writes sub-headings

_NEGATED = re.compile(r"\b(?:never|not|no one|nobody|won't|don't|doesn't|cannot|can't|shouldn't)\b", re.I)
_SECRET = (
    r"(?:(?:full |complete )?(?:credit |debit |bank )?card(?:'s)? (?:number|details|digits)|cvv2?|cvc|"
    r"security code|pin(?: code| number)?|pass(?:word|code|phrase)s?|one[- ]time (?:pass)?codes?|otp|"
    r"2fa codes?|verification codes?|login (?:details|credentials)|credentials|"
    r"bank (?:account|login|details)|account password|"
    r"social security(?: number)?|ssn|seed phrase|recovery phrase|private keys?)"
)
_RULES: dict[str, re.Pattern[str]] = {
    "override": re.compile(
        r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}?\b"
        r"(?:instructions?|prompts?|rules|guidelines|directions|directives)\b",
        re.I,
    ),
    "role": re.compile(
        r"(?:^|[\s>\]）)])(?:system|assistant|developer|admin)\s*:|\bnew (?:rules?|instructions?)\s*:|"
        r"\b(?:system prompt|developer mode|jailbr(?:eak|oken)|"
        r"you are now (?:in )?(?:an? )?(?:unrestricted|unfiltered|admin|developer|dan|god)\b|"
        r"reveal (?:your|the) (?:system )?(?:prompt|instructions|rules))",
        re.I,
    ),
    "secret": re.compile(
        r"\b(?:(?<!your )(?<!the )(?<!an )(?<!our )e-?mail(?!\W+address)|send|text|sms|reply|message|dm|ask|"
        r"forward|mail|fax|call|share|give|provide|submit|tell)"
        rf"\b(?:\W+\w+){{0,6}}?\W+your\s+{_SECRET}\b(?!\W+(?:reset|retrieval|recovery|change|manager|policy))",
        re.I,
    ),
}


def strip_markup(text: str) -> str:
    """``text`` without HTML (script and style with their content) and without script links."""
    text = _BAD_LINK.sub(lambda m: m.group(2), text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    if _TAG_START.search(text) or "&" in text:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(text, "html.parser")
        for element in soup(["script", "style"]):
            element.decompose()
        text = soup.get_text()
    return _BAD_URL.sub("", text)


def instruction_rule(sentence: str) -> str | None:
    """The name of the rule a sentence breaks by addressing the reader as instructions, or None."""
    for name, pattern in _RULES.items():
        if pattern.search(sentence) and not (name == "secret" and _NEGATED.search(sentence)):
            return name
    return None


def sentences(text: str, language: str | None = None) -> list[str]:
    """``text`` cut into sentences (and lines), empty pieces dropped: each line by ``sentencex``
    in ``language`` (the chunker's segmenter, with each language's abbreviations: "z. B.", "ca.",
    "Sr."; English when unknown), a list item's number kept with its item ("3." is no sentence),
    and a ``**bold**`` or ``__bold__`` span kept whole (a trial: the sub-heading "**4. Afmetingen
    en maximaal gewicht**" was cut into "**4." and "Afmetingen en maximaal gewicht**", so no piece
    read as a heading and a quote ended on "… Afmetingen en maximaal gewicht**")."""
    code = _segmenter_language(language)
    return [sentence for line in text.split("\n") for sentence in _line_sentences(line, code)]


def _line_sentences(line: str, language: str) -> list[str]:
    found: list[str] = []  # as the segmenter cut them, spaces kept: joined they are the line
    for piece in segments(language, line):
        # "**" after "**Wie viel?" (markup closing a sentence), or an item after its bare "3."
        if found and (not _WORD.search(piece) or _MARKER.fullmatch(found[-1].strip())):
            found[-1] += piece
        elif found and (tail := _TRAILING_MARKER.search(found[-1])):  # "… WLAN. 1." then "Öffnen …"
            found[-1] = found[-1][: tail.start()]
            found.append(tail.group("marker") + piece)
        elif found and _open_emphasis(found[-1]):  # inside a bold span: it goes on
            found[-1] += piece
        else:
            found.append(piece)
    return [piece.strip() for piece in found if piece.strip()]


def _open_emphasis(text: str) -> bool:
    """Whether ``text`` opens a ``**``/``__`` span it does not close."""
    return any(text.count(marker) % 2 for marker in ("**", "__"))


def balanced_emphasis(text: str) -> str:
    """``text`` without the ``**``/``__`` that open or close nothing in it (a quote cut inside a
    bold span, a document's stray marker): shown as text, they are asterisks a customer reads.
    Pairs go by CommonMark's flanking rule (an opener is followed by a non-space, a closer follows
    one), the same marker with the same."""
    unmatched: list[tuple[int, int]] = []
    opened: dict[str, tuple[int, int]] = {}
    for match in _EMPHASIS.finditer(text):
        marker, start, end = match.group(), match.start(), match.end()
        opens = end < len(text) and not text[end].isspace()
        closes = start > 0 and not text[start - 1].isspace()
        if marker in opened and closes:
            del opened[marker]
        elif opens:
            if marker in opened:
                unmatched.append(opened[marker])
            opened[marker] = (start, end)
        else:
            unmatched.append((start, end))
    unmatched += opened.values()
    for start, end in sorted(unmatched, reverse=True):
        spaced = start > 0 and text[start - 1] == " " and text[end : end + 1] == " "
        text = text[:start] + text[end + spaced :]  # "a ** b" → "a b"
    return text


def _segmenter_language(language: str | None) -> str:
    code = (language or "en")[:2].lower()
    return "en" if code in ("", "un") else code


def quotable_units(text: str, language: str | None = None) -> list[tuple[str, bool]]:
    """The sentences of ``text`` that may be quoted to a reader (markup stripped, instruction
    sentences dropped; ``sentences`` in the passage's ``language``), each with whether a line ends
    after it (list items, table rows)."""
    units: list[tuple[str, bool]] = []
    for line in strip_markup(text).split("\n"):
        kept = [s.strip() for s in sentences(line, language) if instruction_rule(s) is None]
        units += [(sentence, i == len(kept) - 1) for i, sentence in enumerate(kept)]
    return units


def quotable(text: str) -> str:
    """What of ``text`` may be quoted to a reader, as one line (``quotable_units`` joined)."""
    return " ".join(sentence for sentence, _ in quotable_units(text))
