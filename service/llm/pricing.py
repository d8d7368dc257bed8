"""Model prices (USD per million tokens) and what an answer cost.

Defaults cover the models the service ships with; ``PRICING_TABLE`` (JSON) overrides fields of a
known model or adds new ones, e.g.::

    PRICING_TABLE='{"claude-sonnet-4-6": {"input_per_mtok": 2.5},
                    "my-gateway-model": {"input_per_mtok": 1, "output_per_mtok": 4}}'

Cache writes and reads are priced as multiples of the input price (1.25 for the 5-minute cache,
0.1 for reads), and Message Batches at ``batch_discount`` of the whole. A dated model id
(``claude-haiku-4-5-20251001``) is priced as its longest known prefix (``claude-haiku-4-5``). An
unknown model raises ``UnknownModelError`` unless ``PRICING_FALLBACK_MODEL`` names a model to
price it as.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings

from knowledge.errors import ConfigError
from knowledge.settings import EmptyIsNone, _config
from service.api.schemas import Usage

log = logging.getLogger(__name__)

_PER_MTOK = 1_000_000


class ModelPrice(BaseModel):
    """Prices of one model: USD per million tokens, and multipliers of the input price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_write_multiplier: float = Field(default=1.25, ge=0, description="5-minute cache writes")
    cache_read_multiplier: float = Field(default=0.1, ge=0)
    batch_discount: float = Field(default=0.5, gt=0, le=1, description="factor for Message Batches")


class PriceOverride(BaseModel):
    """One ``PRICING_TABLE`` entry: any subset of ``ModelPrice`` fields."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float | None = Field(default=None, ge=0)
    output_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_multiplier: float | None = Field(default=None, ge=0)
    cache_read_multiplier: float | None = Field(default=None, ge=0)
    batch_discount: float | None = Field(default=None, gt=0, le=1)


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-sonnet-4-6": ModelPrice(input_per_mtok=3.0, output_per_mtok=15.0),
    "claude-haiku-4-5": ModelPrice(input_per_mtok=1.0, output_per_mtok=5.0),
    "claude-opus-4-1": ModelPrice(input_per_mtok=15.0, output_per_mtok=75.0),
}


def merge_prices(
    defaults: Mapping[str, ModelPrice], overrides: Mapping[str, PriceOverride]
) -> dict[str, ModelPrice]:
    """Defaults with overrides applied field by field; a new model must give both token prices."""
    merged = dict(defaults)
    for model, override in overrides.items():
        fields = override.model_dump(exclude_none=True)
        base = merged.get(model)
        if base is not None:
            merged[model] = base.model_copy(update=fields)
        elif "input_per_mtok" in fields and "output_per_mtok" in fields:
            merged[model] = ModelPrice(**fields)
        else:
            raise ValueError(f"PRICING_TABLE: new model {model!r} needs input_per_mtok and output_per_mtok")
    return merged


class PricingSettings(BaseSettings):
    model_config = _config("PRICING_")

    table: dict[str, PriceOverride] = Field(
        default_factory=dict,
        description="JSON object: model id → price fields overriding or extending the defaults",
    )
    fallback_model: EmptyIsNone[str] = Field(
        default=None, description="price unknown models as this one; unset = unknown model is an error"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PricingSettings:
        prices = merge_prices(DEFAULT_PRICES, self.table)
        if self.fallback_model is not None and self.fallback_model not in prices:
            raise ValueError(f"PRICING_FALLBACK_MODEL {self.fallback_model!r} is not in the price table")
        return self


class UnknownModelError(ConfigError):
    """A model has no price and no fallback is configured."""


class PriceTable:
    def __init__(self, settings: PricingSettings | None = None) -> None:
        settings = settings or PricingSettings()
        self.prices = merge_prices(DEFAULT_PRICES, settings.table)
        self.fallback_model = settings.fallback_model
        self._warned: set[str] = set()

    def price(self, model: str) -> ModelPrice:
        """The price of ``model``: exact id, else its longest known prefix, else the fallback."""
        if (exact := self.prices.get(model)) is not None:
            return exact
        prefixes = [name for name in self.prices if model.startswith(name + "-")]
        if prefixes:
            return self.prices[max(prefixes, key=len)]
        if self.fallback_model is not None:
            if model not in self._warned:
                self._warned.add(model)
                log.warning("no price for model %s; priced as %s", model, self.fallback_model)
            return self.prices[self.fallback_model]
        raise UnknownModelError(
            f"no price for model {model!r}",
            hint="add it to PRICING_TABLE (input_per_mtok, output_per_mtok) or set PRICING_FALLBACK_MODEL",
        )

    def require(self, models: Iterable[str]) -> None:
        """Fail at startup, not after an answer, if a configured model cannot be priced."""
        for model in models:
            self.price(model)

    def cost(self, model: str, usage: Usage, *, batch: bool = False) -> float:
        """USD for one response's usage (``usage.cost_usd`` is ignored), rounded to 1e-8."""
        p = self.price(model)
        per_input = p.input_per_mtok / _PER_MTOK
        total = (
            usage.input_tokens * per_input
            + usage.cache_creation_input_tokens * per_input * p.cache_write_multiplier
            + usage.cache_read_input_tokens * per_input * p.cache_read_multiplier
            + usage.output_tokens * p.output_per_mtok / _PER_MTOK
        )
        if batch:
            total *= p.batch_discount
        return round(total, 8)
