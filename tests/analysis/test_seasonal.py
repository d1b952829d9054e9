from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis.traffic import daily_series
from tracesec.analysis import BaselineSettings, SeasonalBaseline


def anomalies(values: list[float], baseline: SeasonalBaseline | None = None) -> list[int]:
    baseline = baseline or SeasonalBaseline()
    return [index for index, value in enumerate(values) if baseline.update(value).anomaly]


@pytest.mark.parametrize("seed", range(8))
def test_a_clean_seasonal_series_raises_no_anomaly(seed: int) -> None:
    assert anomalies(daily_series(seed)) == []


@pytest.mark.parametrize("seed", range(8))
def test_injected_spikes_and_an_outage_are_found_and_nothing_else(seed: int) -> None:
    values = daily_series(seed)
    spikes = [60 + seed, 200 + 3 * seed, 450 + seed, 700 - seed]
    for index in spikes:
        values[index] = values[index] * 2 + 50
    outage = 333
    values[outage] = 0.0
    assert anomalies(values) == sorted([*spikes, outage])


def test_a_spike_does_not_widen_the_band_or_become_the_norm() -> None:
    values = daily_series(1)
    baseline = SeasonalBaseline()
    for value in values[:300]:
        baseline.update(value)
    before = baseline.deviation()
    baseline.update(values[300] * 10)
    assert baseline.deviation() < 1.5 * before
    # The same hour the next day is judged against the usual value, not the spike.
    for value in values[301:324]:
        baseline.update(value)
    assert not baseline.update(values[324]).anomaly


def test_ewma_fallback_until_a_full_season_then_seasonal() -> None:
    baseline = SeasonalBaseline(BaselineSettings(season_buckets=24))
    values = daily_series(3)
    for value in values[:23]:
        baseline.update(value)
        assert not baseline.is_seasonal
    baseline.update(values[23])
    assert baseline.is_seasonal
    # Seasonal forecasts follow the daily cycle: the peak hour is forecast well above the trough hour.
    for value in values[24:48]:
        baseline.update(value)
    peak, trough = [], []
    for hour, value in enumerate(values[48:72], start=48):
        (peak if hour % 24 == 6 else trough if hour % 24 == 18 else []).append(baseline.forecast())
        baseline.update(value)
    assert peak[0] > 4 * trough[0]


def test_a_lasting_level_change_is_reported_then_learned() -> None:
    values = [100.0] * 24 * 5 + [400.0] * 24 * 5
    found = anomalies(values, SeasonalBaseline(BaselineSettings(transform="none", min_deviation=5)))
    assert found
    assert found[0] == 24 * 5
    assert found[-1] < 24 * 7


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=120),
    split=st.integers(min_value=0, max_value=120),
    season=st.integers(min_value=1, max_value=30),
)
def test_state_round_trips_through_json_and_continues_identically(
    values: list[float], split: int, season: int
) -> None:
    config = BaselineSettings(season_buckets=season, warmup_buckets=3)
    whole = SeasonalBaseline(config)
    expected = [whole.update(value) for value in values]
    first = SeasonalBaseline(config)
    verdicts = [first.update(value) for value in values[:split]]
    restored = SeasonalBaseline.from_json(json.loads(json.dumps(first.to_json())))
    verdicts += [restored.update(value) for value in values[split:]]
    assert verdicts == expected
    assert restored.to_json() == whole.to_json()


@pytest.mark.parametrize(
    "damage",
    [
        lambda state: state.pop("level"),
        lambda state: state.update(version=99),
        lambda state: state.update(level="high"),
        lambda state: state.update(observed=-1),
        lambda state: state.update(seasonal=[1.0, 2.0]),
        lambda state: state["settings"].update(season_buckets=0),
    ],
)
def test_damaged_state_is_refused_with_a_message(damage) -> None:
    baseline = SeasonalBaseline()
    for value in daily_series(0)[:30]:
        baseline.update(value)
    state = baseline.to_json()
    damage(state)
    with pytest.raises(ValueError, match=r"\w"):
        SeasonalBaseline.from_json(state)


def test_settings_and_values_are_checked() -> None:
    with pytest.raises(ValueError, match="transform"):
        BaselineSettings(transform="log")
    with pytest.raises(ValueError, match="level_smoothing"):
        BaselineSettings(level_smoothing=0)
    with pytest.raises(ValueError, match="sqrt"):
        SeasonalBaseline().update(-1)
    with pytest.raises(ValueError, match="finite"):
        SeasonalBaseline().update(float("nan"))
