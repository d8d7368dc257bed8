"""What the dissatisfaction lexicon found in a customer's message, kept with its stored turn.

A customer turn is assessed once, when it is asked (``service.handoff.policy.HandoffPolicy.mark``);
later answers judge it from this record instead of assessing the whole conversation again
(``DissatisfactionDetector.count_turns``). Turns stored without one (before marks existed) are
assessed when read, as before.

A dissatisfaction handoff ends an episode: the turn whose answer handed the customer's
dissatisfaction on is stored with ``handed_off``, and later answers count only the turns after it
(nor do they count the turns before the last change of who answers, ``Conversation.state_since``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TurnMark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    signals: tuple[str, ...] = Field(
        default=(),
        description="the message's own signals: phrase:<language>, shouting, emphasis, anger_emoji",
    )
    repeats: int | None = Field(
        default=None, description="position of the latest earlier customer turn it nearly repeats"
    )
    handed_off: bool = Field(
        default=False, description="its answer handed the dissatisfaction on: later turns count afresh"
    )
