"""Settings of ``faqstream batch tag`` (``BATCH_TAG_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from knowledge.settings import EmptyIsNone, _config


class BatchTagSettings(BaseSettings):
    model_config = _config("BATCH_TAG_")

    model: EmptyIsNone[str] = Field(default=None, description="unset = ANTHROPIC_MODEL")
    max_tokens: int = Field(default=400, ge=50, le=4096, description="per tagging request")
    idle_minutes: float = Field(
        default=30.0, ge=0, description="a conversation idle this long is finished and can be tagged"
    )
    max_requests: int = Field(default=10_000, ge=1, le=100_000, description="conversations per batch")
    message_chars: int = Field(default=600, ge=50, description="each message is clipped to this")
    transcript_chars: int = Field(default=6000, ge=200, description="longer chats lose their middle")
    max_attempts: int = Field(
        default=3, ge=1, description="a conversation whose result failed this often is not asked again"
    )
    poll_initial_s: float = Field(default=5.0, gt=0, description="first wait between status checks")
    poll_max_s: float = Field(default=300.0, gt=0, description="longest wait between status checks")
    clock_skew_s: float = Field(
        default=600.0,
        ge=0,
        description="recovering a job cut off before its batch id was stored: batches created up to "
        "this long before the job's row are considered",
    )
