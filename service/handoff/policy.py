"""When to hand a conversation to a human, and what the human gets.

Pure decisions, no I/O except loading the curated dissatisfaction lexicon once
(``data/dissatisfaction.yaml``). The answer flow collects ``HandoffSignals`` (router output,
retrieval, LLM health, the conversation) and asks ``HandoffPolicy.decide``; a ``Handoff`` comes
back when a human should take over, carrying the reason, a summary for the agent, the intent, the
customer's language and the cited passages. ``handoff_message`` is what the customer reads.

Precedence when several reasons apply (``Handoff.reason`` is the first, ``Handoff.reasons`` all):

1. ``customer_request`` — the customer asked for a human (router intent in
   ``HANDOFF_HUMAN_INTENTS`` at or above the confidence threshold, or an explicit UI request).
   Their own words come first.
2. ``dissatisfaction`` — ``HANDOFF_DISSATISFACTION_COUNT`` customer turns were dissatisfied. The
   agent must know they are talking to an upset customer before anything else.
3. ``llm_unavailable`` — the configured LLM failed (errors, open circuit). A system fault, not
   about this question; the customer gets the extractive passages and a human.
4. ``low_confidence`` — the router is not sure what the customer wants (under
   ``HANDOFF_CONFIDENCE_THRESHOLD``). A retrieval miss may just follow from that, so it comes first.
   Only with the team's own intents file (``custom_intents``, decided at start-up by
   ``service.routing.router.intents_origin``): labels written for someone else's business say nothing
   about this customer's request, so without a custom file a low confidence never hands off alone.
5. ``no_relevant_passages`` — fewer than ``HANDOFF_MIN_RELEVANT_HITS`` passages above the
   relevance floor (the cut-off calibrated on the knowledge base, ``service.retrieval.relevance``): the
   documents do not cover the question. Decided before the model is asked, which it then is not.
6. ``not_in_documents`` — the model was given passages and signalled, with its structured tool
   call (``service.answers.prompts.NOT_IN_DOCUMENTS``), that they do not answer the question. Decided
   after the answer streamed (it travels in ``done``); the model's text stays the reply. Last,
   because every other reason is known before the model is asked.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

import yaml
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings

from knowledge.errors import ConfigError
from knowledge.settings import _config
from service.answers.prompts import LANGUAGE_NAMES
from service.core.types import Citation

DEFAULT_LEXICON = Path(__file__).resolve().parents[2] / "data" / "dissatisfaction.yaml"

HandoffReason = Literal[
    "customer_request",
    "dissatisfaction",
    "llm_unavailable",
    "low_confidence",
    "no_relevant_passages",
    "not_in_documents",
]
REASON_ORDER: tuple[HandoffReason, ...] = get_args(HandoffReason)  # precedence: the order above


class HandoffSettings(BaseSettings):
    model_config = _config("HANDOFF_")

    confidence_threshold: float = Field(
        default=0.75,
        ge=0.0,
        le=1.0,
        description="router confidence under which a human takes over; applies only with your own "
        "intents file (ROUTER_INTENTS_FILE)",
    )
    dissatisfaction_count: int = Field(
        default=2, ge=1, le=100, description="dissatisfied customer turns that trigger a handoff"
    )
    min_relevant_hits: int = Field(
        default=1, ge=0, le=20, description="passages above the relevance floor needed to answer; 0 = off"
    )
    human_intents: tuple[str, ...] = Field(
        default=("human_agent",), description="router intents meaning 'let me talk to a person'"
    )
    lexicon_path: Path | None = Field(
        default=None, description="dissatisfaction lexicon (YAML); unset = data/dissatisfaction.yaml"
    )
    summary_max_chars: int = Field(default=1500, ge=200, le=20_000)
    webhook_url: str | None = Field(
        default=None, description="where handoffs are POSTed for the agents' tool; unset = no webhook"
    )

    @field_validator("webhook_url", "lexicon_path", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


# ---------------------------------------------------------------- dissatisfaction


def normalize(text: str) -> str:
    """NFKC, lower case, straight apostrophes, Latin accents removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def _pattern(source: str) -> re.Pattern[str]:
    """Patterns get the accent treatment of ``normalize`` (not lower-casing: it would break escapes)."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", source))
    text = unicodedata.normalize("NFC", "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f"))
    return re.compile(text, re.IGNORECASE)


@dataclass(frozen=True)
class TurnAssessment:
    dissatisfied: bool
    score: float
    signals: tuple[str, ...]  # e.g. ("phrase:en", "shouting", "repeated_question", "emphasis")


@dataclass(frozen=True)
class _Language:
    patterns: tuple[re.Pattern[str], ...]
    exceptions: tuple[re.Pattern[str], ...]


_PUNCT = re.compile(r"[\W_]+")


class DissatisfactionDetector:
    """Scores one customer message for signs of dissatisfaction; counts them over a conversation."""

    def __init__(self, spec: dict[str, Any]) -> None:
        try:
            self.threshold = float(spec.get("threshold", 1.0))
            weights = spec.get("weights") or {}
            self.weights = {
                k: float(weights.get(k, 0.0)) for k in ("phrase", "repeated_question", "shouting", "emphasis")
            }
            shouting = spec.get("shouting") or {}
            self.shout_min_letters = int(shouting.get("min_letters", 12))
            self.shout_min_words = int(shouting.get("min_words", 3))
            self.shout_ratio = float(shouting.get("min_upper_ratio", 0.9))
            repeat = spec.get("repeated_question") or {}
            self.repeat_min_chars = int(repeat.get("min_chars", 12))
            self.repeat_similarity = float(repeat.get("min_similarity", 0.85))
            self.emphasis = tuple(_pattern(p) for p in spec.get("emphasis") or [])
            self.languages = {
                str(code): _Language(
                    tuple(_pattern(p) for p in entry.get("patterns") or []),
                    tuple(_pattern(p) for p in entry.get("except") or []),
                )
                for code, entry in (spec.get("languages") or {}).items()
            }
        except (AttributeError, TypeError, ValueError, re.error) as exc:
            raise ConfigError(f"invalid dissatisfaction lexicon: {exc}") from exc
        if not self.languages:
            raise ConfigError("the dissatisfaction lexicon defines no languages")

    @classmethod
    def load(cls, path: Path | None = None) -> DissatisfactionDetector:
        return _load(path or DEFAULT_LEXICON)

    def phrase_languages(self, text: str) -> list[str]:
        """Languages whose lexicon matches ``text`` (all languages are tried on every message)."""
        norm = normalize(text)
        found = []
        for code, lang in self.languages.items():
            if any(p.search(norm) for p in lang.patterns) and not any(
                e.search(norm) for e in lang.exceptions
            ):
                found.append(code)
        return found

    def shouting(self, text: str) -> bool:
        words = [w for w in text.split() if not any(c.isdigit() for c in w)]
        cased = [c for w in words for c in w if c.isupper() or c.islower()]
        cased_words = [w for w in words if len(w) >= 2 and any(c.isupper() or c.islower() for c in w)]
        if len(cased) < self.shout_min_letters or len(cased_words) < self.shout_min_words:
            return False
        return sum(c.isupper() for c in cased) / len(cased) >= self.shout_ratio

    def repeats(self, text: str, previous: Sequence[str]) -> bool:
        """(Nearly) the same message as an earlier customer turn: the answer did not help."""
        key = _PUNCT.sub(" ", normalize(text)).strip()
        if len(key) < self.repeat_min_chars:
            return False
        for earlier in previous:
            other = _PUNCT.sub(" ", normalize(earlier)).strip()
            if other and difflib.SequenceMatcher(None, key, other).ratio() >= self.repeat_similarity:
                return True
        return False

    def assess(self, text: str, previous: Sequence[str] = ()) -> TurnAssessment:
        """One customer message; ``previous`` are the customer's earlier messages, oldest first."""
        signals: list[str] = [f"phrase:{code}" for code in self.phrase_languages(text)]
        score = self.weights["phrase"] if signals else 0.0
        if self.repeats(text, previous):
            signals.append("repeated_question")
            score += self.weights["repeated_question"]
        if self.shouting(text):
            signals.append("shouting")
            score += self.weights["shouting"]
        norm = normalize(text)
        if any(p.search(norm) for p in self.emphasis):
            signals.append("emphasis")
            score += self.weights["emphasis"]
        return TurnAssessment(score >= self.threshold and score > 0, round(score, 3), tuple(signals))

    def count(self, customer_turns: Sequence[str]) -> int:
        """Dissatisfied turns among the customer's messages of one conversation, oldest first."""
        return sum(
            self.assess(text, customer_turns[:i]).dissatisfied for i, text in enumerate(customer_turns)
        )


@lru_cache(maxsize=8)
def _load(path: Path) -> DissatisfactionDetector:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read the dissatisfaction lexicon {path}: {exc}", hint="check HANDOFF_LEXICON_PATH"
        ) from exc
    if not isinstance(spec, dict):
        raise ConfigError(f"the dissatisfaction lexicon {path} is not a YAML mapping")
    return DissatisfactionDetector(spec)


# ---------------------------------------------------------------- signals and payload


class TurnLike(Protocol):
    """A conversation message: ``service.conversations.store.Turn`` or ``Turn`` below."""

    @property
    def role(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class HandoffSignals:
    """What the answer flow knows when deciding. ``turns`` include the current customer message."""

    language: str
    intent: str | None = None  # router output; None = no router
    confidence: float | None = None
    relevant_hits: int = 0  # passages above the relevance floor
    llm_available: bool = True  # False = the configured LLM failed; extractive-by-configuration is True
    customer_asked: bool = False  # an explicit request outside the router (a "talk to a person" button)
    documents_answer: bool = True  # False: the model signalled that the passages do not answer it
    dissatisfied_turns: int | None = None  # None = counted from ``turns`` with the lexicon
    turns: Sequence[TurnLike] = ()
    citations: Sequence[Citation] = ()
    summary: str | None = None  # precomputed (e.g. an LLM summary); None = extractive summary


class Handoff(BaseModel):
    reason: HandoffReason = Field(description="the first applicable reason in precedence order")
    reasons: list[HandoffReason] = Field(description="every reason that applied, in precedence order")
    summary: str = Field(description="for the human agent: request, facts given, what was answered")
    intent: str | None
    confidence: float | None
    language: str
    citations: list[Citation]
    dissatisfied_turns: int = 0


def handoff_reasons(
    signals: HandoffSignals, settings: HandoffSettings, dissatisfied: int, *, custom_intents: bool = True
) -> list[HandoffReason]:
    """Every reason for a handoff that applies, in precedence order (empty: no handoff).

    ``custom_intents=False`` (the router runs the bundled example intents): low confidence alone
    is no reason."""
    confident = signals.confidence is None or signals.confidence >= settings.confidence_threshold
    found: set[HandoffReason] = set()
    if signals.customer_asked or (signals.intent in settings.human_intents and confident):
        found.add("customer_request")
    if dissatisfied >= settings.dissatisfaction_count:
        found.add("dissatisfaction")
    if not signals.llm_available:
        found.add("llm_unavailable")
    if not confident and custom_intents:
        found.add("low_confidence")
    if signals.relevant_hits < settings.min_relevant_hits:
        found.add("no_relevant_passages")
    if not signals.documents_answer:
        found.add("not_in_documents")
    return [r for r in REASON_ORDER if r in found]


def decide(
    signals: HandoffSignals,
    settings: HandoffSettings | None = None,
    detector: DissatisfactionDetector | None = None,
    *,
    custom_intents: bool = True,
) -> Handoff | None:
    settings = settings or HandoffSettings()
    dissatisfied = signals.dissatisfied_turns
    if dissatisfied is None:
        detector = detector or DissatisfactionDetector.load(settings.lexicon_path)
        dissatisfied = detector.count([t.text for t in signals.turns if t.role == "user"])
    reasons = handoff_reasons(signals, settings, dissatisfied, custom_intents=custom_intents)
    if not reasons:
        return None
    summary = signals.summary.strip() if signals.summary and signals.summary.strip() else None
    if summary is None:
        summary = build_summary(signals, reasons, dissatisfied)
    return Handoff(
        reason=reasons[0],
        reasons=reasons,
        summary=_clip(summary, settings.summary_max_chars),
        intent=signals.intent,
        confidence=signals.confidence,
        language=signals.language,
        citations=list(signals.citations),
        dissatisfied_turns=dissatisfied,
    )


class HandoffPolicy:
    """Settings plus the loaded lexicon: what the service holds and calls per answer.

    ``custom_intents``: whether the router's labels are the team's own (``ROUTER_INTENTS_FILE``);
    only then does a low intent confidence hand off."""

    def __init__(
        self,
        settings: HandoffSettings,
        detector: DissatisfactionDetector | None = None,
        *,
        custom_intents: bool = True,
    ) -> None:
        self.settings = settings
        self.detector = detector or DissatisfactionDetector.load(settings.lexicon_path)
        self.custom_intents = custom_intents

    def decide(self, signals: HandoffSignals) -> Handoff | None:
        return decide(signals, self.settings, self.detector, custom_intents=self.custom_intents)


# ---------------------------------------------------------------- the agent's summary

REASON_TEXT: dict[HandoffReason, str] = {
    "customer_request": "the customer asked for a human",
    "dissatisfaction": "the customer is repeatedly dissatisfied with the answers",
    "llm_unavailable": "the AI model is unavailable (the customer got quoted passages only)",
    "low_confidence": "the request could not be classified with confidence",
    "no_relevant_passages": "the documents do not cover the question",
    "not_in_documents": "the AI model found that the retrieved passages do not answer the question",
}

_FACTS = (
    # order / reference numbers after a keyword, in the supported languages
    re.compile(
        r"(?:order|invoice|ticket|case|tracking|pedido|factura|commande|facture|bestellnummer|bestellung|"
        r"rechnungsnummer|rechnung|auftragsnummer|auftrag|ordine|fattura|encomenda|fatura|订单|发票|注文|請求書)"
        r"[^\n\d]{0,24}?([A-Za-z0-9][A-Za-z0-9-]*\d[A-Za-z0-9-]*)",
        re.IGNORECASE,
    ),
    re.compile(r"(#\d{4,})"),
    re.compile(r"\b([A-Z]{2,}[-_]?\d[\w-]*|[A-Z0-9]+(?:-[A-Z0-9]+){1,})\b"),  # ORD-12345, NW-KTL-110
    re.compile(r"(?<![\w.,])(\d{6,})(?![\w.,])"),  # long numbers (tracking, order)
    re.compile(
        r"((?:[€$£¥]\s?\d[\d.,]*)|(?:\d[\d.,]*\s?(?:€|eur(?:os?)?|usd|dollars?|£|gbp|元|円|rmb|yuan)))",
        re.IGNORECASE,
    ),
    re.compile(r"(\d{4}-\d{2}-\d{2}|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\d{1,2}月\d{1,2}日)"),
)


def extract_facts(texts: Sequence[str], limit: int = 8) -> list[str]:
    """Order numbers, codes, amounts and dates the customer gave, in order of appearance."""
    facts: list[str] = []
    for text in texts:
        spans: list[tuple[int, str]] = []
        for pattern in _FACTS:
            spans += [(m.start(1), m.group(1).strip().rstrip(".,")) for m in pattern.finditer(text)]
        for _, value in sorted(spans):
            if value and not any(value in f or f in value for f in facts):
                facts.append(value)
    return facts[:limit]


def _quote(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return f'"{flat}"' if len(flat) <= limit else f'"{flat[: limit - 1].rstrip()}…"'


def _first_sentence(text: str, limit: int = 180) -> str:
    flat = " ".join(text.split())
    cut = re.search(r"(?<=[.!?。！？])\s", flat)
    return _quote(flat[: cut.start()] if cut else flat, limit)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_summary(signals: HandoffSignals, reasons: Sequence[HandoffReason], dissatisfied: int) -> str:
    """Extractive summary for the agent: labels in English, the customer's words as quoted."""
    customer = [t.text for t in signals.turns if t.role == "user" and t.text.strip()]
    answers = [t.text for t in signals.turns if t.role == "assistant" and t.text.strip()]
    name = LANGUAGE_NAMES.get(signals.language, signals.language)
    lines = [f"Handoff: {REASON_TEXT[reasons[0]]}."]
    if len(reasons) > 1:
        lines[0] += " Also: " + "; ".join(REASON_TEXT[r] for r in reasons[1:]) + "."
    about = f"Language: {name} ({signals.language})."
    if signals.intent:
        confidence = f", confidence {signals.confidence:.2f}" if signals.confidence is not None else ""
        about += f" Intent: {signals.intent}{confidence}."
    if dissatisfied:
        about += f" Dissatisfied turns: {dissatisfied}."
    lines.append(about)
    if customer:
        request = next((t for t in customer if len(t.split()) >= 3 or len(t) >= 12), customer[0])
        lines.append(f"Customer wants: {_quote(request, 240)}")
        if customer[-1] != request:
            lines.append(f"Latest message: {_quote(customer[-1], 240)}")
    facts = extract_facts(customer)
    if facts:
        lines.append("Facts given: " + "; ".join(facts))
    if answers:
        lines.append(
            f"Already answered ({len(answers)} repl{'y' if len(answers) == 1 else 'ies'}), last: "
            + _first_sentence(answers[-1])
        )
    titles = list(dict.fromkeys(c.title for c in signals.citations if c.title))
    if titles:
        lines.append("Sources: " + "; ".join(titles[:5]))
    return "\n".join(lines)


# ---------------------------------------------------------------- what the customer reads

_OPENING: dict[str, dict[str, str]] = {
    "customer_request": {
        "en": "Of course.",
        "zh": "好的，没问题。",
        "es": "Por supuesto.",
        "fr": "Bien sûr.",
        "de": "Sehr gerne.",
        "ja": "承知しました。",
        "pt": "Com certeza.",
        "it": "Certamente.",
    },
    "dissatisfaction": {
        "en": "I'm sorry my answers haven't helped.",
        "zh": "很抱歉，我的回答没能帮到您。",
        "es": "Siento que mis respuestas no le hayan servido de ayuda.",
        "fr": "Je suis désolé que mes réponses ne vous aient pas été utiles.",
        "de": "Es tut mir leid, dass meine Antworten Ihnen nicht weitergeholfen haben.",
        "ja": "お役に立てず申し訳ありません。",
        "pt": "Lamento que as minhas respostas não tenham ajudado.",
        "it": "Mi dispiace che le mie risposte non le siano state d'aiuto.",
    },
    "llm_unavailable": {
        "en": "I'm sorry, I can't give you a complete answer right now.",
        "zh": "抱歉，我现在无法为您提供完整的回答。",
        "es": "Lo siento, en este momento no puedo darle una respuesta completa.",
        "fr": "Désolé, je ne peux pas vous donner de réponse complète pour le moment.",
        "de": "Das tut mir leid, ich kann Ihnen gerade keine vollständige Antwort geben.",
        "ja": "申し訳ありません。現在、十分な回答をお出しできない状況です。",
        "pt": "Lamento, neste momento não consigo dar-lhe uma resposta completa.",
        "it": "Mi dispiace, in questo momento non riesco a darle una risposta completa.",
    },
    "low_confidence": {
        "en": "I want to make sure you get the right answer to this.",
        "zh": "我希望确保您得到准确的答复。",
        "es": "Quiero asegurarme de que reciba la respuesta correcta.",
        "fr": "Je veux m'assurer que vous obteniez la bonne réponse.",
        "de": "Ich möchte sicherstellen, dass Sie die richtige Antwort bekommen.",
        "ja": "この件については、正確な情報をお伝えしたいと思います。",
        "pt": "Quero garantir que recebe a resposta certa.",
        "it": "Voglio essere sicuro che lei riceva la risposta giusta.",
    },
    "no_relevant_passages": {
        "en": "I couldn't find the answer to this in our documents, and I don't want to guess.",
        "zh": "我在我们的文件中没有找到这个问题的答案，我不想随意猜测。",
        "es": "No he encontrado la respuesta en nuestros documentos y no quiero adivinar.",
        "fr": "Je n'ai pas trouvé la réponse dans nos documents et je ne veux pas deviner.",
        "de": "Dazu habe ich in unseren Unterlagen keine Antwort gefunden, und ich möchte nicht raten.",
        "ja": "当社の資料ではこのご質問への回答が見つかりませんでした。推測でお答えすることは控えます。",
        "pt": "Não encontrei a resposta nos nossos documentos e não quero adivinhar.",
        "it": "Non ho trovato la risposta nei nostri documenti e non voglio tirare a indovinare.",
    },
    "not_in_documents": {
        "en": "Our documents don't answer this, and I don't want to guess.",
        "zh": "我们的文件没有涵盖这个问题，我不想随意猜测。",
        "es": "Nuestros documentos no responden a esta pregunta y no quiero adivinar.",
        "fr": "Nos documents ne répondent pas à cette question et je ne veux pas deviner.",
        "de": "Unsere Unterlagen beantworten diese Frage nicht, und ich möchte nicht raten.",
        "ja": "当社の資料にはこのご質問への答えが記載されていません。推測でお答えすることは控えます。",
        "pt": "Os nossos documentos não respondem a esta questão e não quero adivinhar.",
        "it": "I nostri documenti non rispondono a questa domanda e non voglio tirare a indovinare.",
    },
}

_TAKEOVER = {
    "en": "I'm passing our conversation to a colleague from our support team, who will take over and "
    "reply here as soon as possible. You won't need to repeat anything: they can see what we've "
    "discussed.",
    "zh": "我会把本次对话转交给我们的客服同事，他们会尽快在这里接手并回复您。"
    "您无需重复说明，他们可以看到我们之前的对话内容。",
    "es": "Voy a pasar nuestra conversación a un compañero de nuestro equipo de atención al cliente, que "
    "se hará cargo y le responderá aquí lo antes posible. No tendrá que repetir nada: podrá ver lo que "
    "hemos hablado.",
    "fr": "Je transmets notre conversation à un collègue de notre service client, qui prendra le relais "
    "et vous répondra ici dès que possible. Vous n'aurez rien à répéter : il pourra voir ce que nous "
    "avons échangé.",
    "de": "Ich gebe unser Gespräch an eine Kollegin oder einen Kollegen aus dem Kundenservice weiter, "
    "die oder der es übernimmt und Ihnen hier so bald wie möglich antwortet. Sie müssen nichts "
    "wiederholen: Der bisherige Verlauf ist dort sichtbar.",
    "ja": "この会話をサポート担当者に引き継ぎます。担当者ができるだけ早くこちらでご返信いたします。"
    "これまでの内容は担当者にも共有されますので、同じ説明を繰り返していただく必要はありません。",
    "pt": "Vou passar a nossa conversa a um colega da nossa equipa de apoio, que lhe dará continuidade e "
    "lhe responderá aqui o mais rapidamente possível. Não precisa de repetir nada: ele poderá ver o que "
    "já falámos.",
    "it": "Passo la nostra conversazione a un collega del nostro servizio clienti, che se ne occuperà e "
    "le risponderà qui il prima possibile. Non dovrà ripetere nulla: potrà vedere quello che ci siamo "
    "già detti.",
}

HANDOFF_LANGUAGES = tuple(_TAKEOVER)


def handoff_message(language: str, reason: HandoffReason) -> str:
    """The customer-facing notice in their language (English for others): a colleague takes over."""
    lang = (language or "en").lower()[:2]
    lang = lang if lang in _TAKEOVER else "en"
    opening = _OPENING[reason][lang]
    joiner = "" if lang in ("zh", "ja") else " "
    return f"{opening}{joiner}{_TAKEOVER[lang]}"
