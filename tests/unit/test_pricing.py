"""Price table: defaults, JSON overrides from the environment, cache and batch pricing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge.errors import ConfigError
from service.core.types import Usage
from service.llm.pricing import PriceOverride, PriceTable, PricingSettings, UnknownModelError


def test_default_prices_per_model() -> None:
    table = PriceTable(PricingSettings(table={}))
    million_each = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert table.cost("claude-sonnet-4-6", million_each) == pytest.approx(3.0 + 15.0)
    assert table.cost("claude-haiku-4-5", million_each) == pytest.approx(1.0 + 5.0)
    assert table.cost("claude-opus-4-1", million_each) == pytest.approx(15.0 + 75.0)


def test_cache_tokens_are_multiples_of_the_input_price() -> None:
    table = PriceTable(PricingSettings(table={}))
    usage = Usage(input_tokens=1000, cache_creation_input_tokens=10_000, cache_read_input_tokens=100_000)
    # sonnet input $3/MTok: 1000 * 3e-6 + 10_000 * 3e-6 * 1.25 + 100_000 * 3e-6 * 0.1
    assert table.cost("claude-sonnet-4-6", usage) == pytest.approx(0.003 + 0.0375 + 0.03)


def test_reported_cost_is_ignored_and_batch_halves_the_price() -> None:
    table = PriceTable(PricingSettings(table={}))
    usage = Usage(input_tokens=2000, output_tokens=500, cost_usd=123.0)
    online = table.cost("claude-haiku-4-5", usage)
    assert online == pytest.approx(2000 * 1e-6 + 500 * 5e-6)
    assert table.cost("claude-haiku-4-5", usage, batch=True) == pytest.approx(online * 0.5)


def test_dated_model_ids_use_the_longest_known_prefix() -> None:
    fast = PriceOverride(input_per_mtok=9, output_per_mtok=9)
    table = PriceTable(PricingSettings(table={"claude-haiku-4-5-fast": fast}))
    assert table.price("claude-haiku-4-5-20251001").input_per_mtok == 1.0
    assert table.price("claude-haiku-4-5-fast-20260101").input_per_mtok == 9.0
    with pytest.raises(UnknownModelError):
        table.price("claude-haiku-4")  # a prefix of a known model is not that model


def test_environment_json_overrides_and_extends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PRICING_TABLE",
        '{"claude-sonnet-4-6": {"input_per_mtok": 2.5, "batch_discount": 0.4},'
        ' "gateway-model": {"input_per_mtok": 0.5, "output_per_mtok": 2, "cache_read_multiplier": 0.2}}',
    )
    table = PriceTable(PricingSettings())
    sonnet = table.price("claude-sonnet-4-6")
    assert (sonnet.input_per_mtok, sonnet.output_per_mtok, sonnet.batch_discount) == (2.5, 15.0, 0.4)
    usage = Usage(input_tokens=1_000_000, cache_read_input_tokens=1_000_000, output_tokens=1_000_000)
    assert table.cost("gateway-model", usage) == pytest.approx(0.5 + 0.5 * 0.2 + 2.0)
    assert table.price("claude-opus-4-1").output_per_mtok == 75.0  # untouched defaults stay


def test_unknown_model_is_a_config_error_naming_the_fix() -> None:
    table = PriceTable(PricingSettings(table={}))
    with pytest.raises(ConfigError) as caught:
        table.cost("mystery-model", Usage(input_tokens=1))
    assert "mystery-model" in str(caught.value) and "PRICING_TABLE" in str(caught.value)
    with pytest.raises(UnknownModelError):
        table.require(["claude-sonnet-4-6", "mystery-model"])


def test_fallback_model_prices_unknown_models() -> None:
    table = PriceTable(PricingSettings(table={}, fallback_model="claude-opus-4-1"))
    usage = Usage(input_tokens=1_000_000)
    assert table.cost("mystery-model", usage) == pytest.approx(15.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"new-model": {"input_per_mtok": 1}},  # a new model needs both token prices
        {"claude-sonnet-4-6": {"input_per_mtok": -1}},
        {"claude-sonnet-4-6": {"batch_discount": 0}},
        {"claude-sonnet-4-6": {"inptu_per_mtok": 1}},  # typo: unknown field
    ],
)
def test_invalid_tables_are_refused_at_load(bad: dict[str, dict[str, float]]) -> None:
    with pytest.raises(ValidationError):
        PricingSettings(table=bad)  # type: ignore[arg-type]


def test_fallback_must_be_priced() -> None:
    with pytest.raises(ValidationError):
        PricingSettings(table={}, fallback_model="nope")
