"""What the dissatisfaction lexicon found in a customer's message, kept with its stored turn.

A customer turn is assessed once, when it is asked (``service.handoff.policy.HandoffPolicy.mark``);
later answers judge it from this record instead of assessing the whole conversation again
(``DissatisfactionDetector.count_turns``). Turns stored without one (before marks existed) are
assessed when read, as before.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TurnMark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    signals: tuple[str, ...] = Field(
        default=(), description="the message's own signals: phrase:<language>, shouting, emphasis"
    )
    repeats: int | None = Field(
        default=None, description="position of the latest earlier customer turn it nearly repeats"
    )
