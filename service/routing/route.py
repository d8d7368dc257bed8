"""What routing returns and what both routers implement: ``Route`` and the ``Router`` protocol.

A leaf below the local router (``service.routing.router``), the LLM router
(``service.routing.llm_router``) and the answer flow. Whether a route hands the customer to a
person is the handoff policy's decision (``service.handoff``: ``HANDOFF_HUMAN_INTENTS`` and
``HANDOFF_CONFIDENCE_THRESHOLD``), not the router's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from service.llm.billing import Bill

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Route:
    """Where a question goes. ``scores`` holds every label's probability, highest first."""

    intent: str
    confidence: float
    language: str
    scores: tuple[tuple[str, float], ...]
    source: Literal["similarity", "keyword", "example", "llm"] = "similarity"
    degraded: bool = False  # the LLM router failed and this is the local router's answer

    def to_dict(self, top: int = 3) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "language": self.language,
            "source": self.source,
            "degraded": self.degraded,
            "scores": {label: round(p, 4) for label, p in self.scores[:top]},
        }


def route_from_dict(data: dict[str, Any]) -> Route:
    """The ``Route`` of ``Route.to_dict`` (its top scores, rounded): what the answer cache keeps."""
    return Route(
        intent=str(data["intent"]),
        confidence=float(data["confidence"]),
        language=str(data["language"]),
        scores=tuple((str(label), float(p)) for label, p in dict(data.get("scores") or {}).items()),
        source=data.get("source", "similarity"),
        degraded=bool(data.get("degraded", False)),
    )


class Router(Protocol):
    """What the service calls; both routers implement it."""

    async def classify(
        self, text: str, language: str, vector: Vector | None = None, bill: Bill | None = None
    ) -> Route:
        """The route of ``text``; a router that asks Claude charges the call to ``bill``."""
        ...

    def wants_human(self, route: Route) -> bool: ...


def wants_human(route: Route, human_label: str = "human_agent") -> bool:
    """The customer asked for a person (in any language: similarity or keyword layer)."""
    return route.intent == human_label
