"""A forecast band for one metric over regular time buckets: additive Holt-Winters (level + trend +
seasonal) once a full season has been seen, an EWMA of the level before that.

The model runs on the square root of the values by default: request counts and byte totals are sums of
many small amounts whose variance grows with their mean (Poisson-like), and the square root makes the
noise about as wide at the daily peak as at night, so one deviation fits every hour.

Robust in the sense of Gelper, Fried and Croux (2010): an observation outside the band is clipped to the
band's edge before it updates the model, so a spike is reported without becoming tomorrow's normal, while
a lasting change still moves the level (by at most the band width per bucket). The band is
``band_width`` times the deviation, an exponentially weighted mean absolute one-step forecast error
(bias-corrected while young, floored at ``min_deviation``).

The state is a few floats plus one per season bucket and round-trips through JSON, so a job can update it
one bucket at a time and persist it between runs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

STATE_VERSION = 1
TRANSFORMS = ("sqrt", "none")


@dataclass(frozen=True)
class BaselineSettings:
    """Defaults suit hourly buckets with a daily season."""

    season_buckets: int = 24
    level_smoothing: float = 0.1
    trend_smoothing: float = 0.01
    seasonal_smoothing: float = 0.1
    deviation_smoothing: float = 0.05
    band_width: float = 5.0
    warmup_buckets: int = 12
    """Buckets seen before anomalies are reported (the deviation needs a few errors to mean anything)."""
    min_deviation: float = 0.5
    """Floor of the deviation in model units (0.5 is Poisson noise after the square root), so a perfectly
    regular series does not alarm on the smallest change."""
    transform: str = "sqrt"
    """``sqrt`` (values must be >= 0) or ``none`` (model the values as they are)."""

    def __post_init__(self) -> None:
        if not 1 <= self.season_buckets <= 100_000:
            raise ValueError("season_buckets must be from 1 to 100000")
        for name in ("level_smoothing", "trend_smoothing", "seasonal_smoothing", "deviation_smoothing"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]")
        if not self.band_width > 0 or not self.min_deviation > 0 or self.warmup_buckets < 1:
            raise ValueError("band_width and min_deviation must be positive, warmup_buckets at least 1")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}")


class Verdict(NamedTuple):
    """What the baseline expected for one bucket and whether the observed value left the band (all in
    the metric's own unit except ``score``)."""

    value: float
    forecast: float
    low: float
    high: float
    score: float
    """(value - forecast) / deviation in model units: how many deviations away, signed."""
    anomaly: bool


class SeasonalBaseline:
    """Incremental baseline of one metric; feed it every bucket in order, zeros included."""

    def __init__(self, settings: BaselineSettings | None = None) -> None:
        self.settings = settings or BaselineSettings()
        self.observed = 0
        self.level = 0.0
        self.trend = 0.0
        self.seasonal: list[float] = []
        """Empty until a full season has been seen (EWMA fallback), then one offset per season bucket."""
        self.first_season: list[float] = []
        self._deviation_sum = 0.0

    @property
    def is_seasonal(self) -> bool:
        return bool(self.seasonal)

    def forecast(self) -> float:
        """The expected value of the next bucket, in the metric's unit."""
        return self._to_metric(self._model_forecast())

    def deviation(self) -> float:
        """The current deviation in model units (bias-corrected EWMA of absolute errors), at least
        ``min_deviation``."""
        weight = 1.0 - (1.0 - self.settings.deviation_smoothing) ** max(self.observed - 1, 0)
        mean = self._deviation_sum / weight if weight > 0 else 0.0
        return max(mean, self.settings.min_deviation)

    def update(self, value: float) -> Verdict:
        """Judge ``value`` against the forecast for its bucket, then learn from it (clipped to the band)."""
        modelled = self._to_model(value)
        if self.observed == 0:
            self.level = modelled
            self._remember_first_season(modelled)
            self.observed = 1
            return Verdict(value, value, value, value, 0.0, False)
        settings = self.settings
        forecast = self._model_forecast()
        deviation = self.deviation()
        half_band = settings.band_width * deviation
        error = modelled - forecast
        warm = self.observed >= settings.warmup_buckets
        clipped_error = max(-half_band, min(half_band, error)) if warm else error
        self._learn(forecast + clipped_error, abs(clipped_error))
        return Verdict(
            value,
            self._to_metric(forecast),
            self._to_metric(forecast - half_band),
            self._to_metric(forecast + half_band),
            error / deviation,
            warm and abs(error) > half_band,
        )

    def _model_forecast(self) -> float:
        if not self.seasonal:
            return self.level
        return self.level + self.trend + self.seasonal[self.observed % self.settings.season_buckets]

    def _to_model(self, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("baseline values must be finite")
        if self.settings.transform == "none":
            return value
        if value < 0:
            raise ValueError("the sqrt transform takes values >= 0")
        return math.sqrt(value)

    def _to_metric(self, modelled: float) -> float:
        if self.settings.transform == "none":
            return modelled
        return max(modelled, 0.0) ** 2

    def _learn(self, value: float, absolute_error: float) -> None:
        settings = self.settings
        self._deviation_sum += settings.deviation_smoothing * (absolute_error - self._deviation_sum)
        if self.seasonal:
            position = self.observed % settings.season_buckets
            previous_level = self.level
            self.level = settings.level_smoothing * (value - self.seasonal[position]) + (
                1 - settings.level_smoothing
            ) * (self.level + self.trend)
            self.trend += settings.trend_smoothing * (self.level - previous_level - self.trend)
            self.seasonal[position] += settings.seasonal_smoothing * (
                value - self.level - self.seasonal[position]
            )
        else:
            self.level += settings.level_smoothing * (value - self.level)
            self._remember_first_season(value)
        self.observed += 1

    def _remember_first_season(self, value: float) -> None:
        """Collect the first season; once complete it initialises level and seasonal offsets."""
        self.first_season.append(value)
        if len(self.first_season) == self.settings.season_buckets:
            self.level = sum(self.first_season) / len(self.first_season)
            self.trend = 0.0
            self.seasonal = [v - self.level for v in self.first_season]
            self.first_season = []

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "settings": asdict(self.settings),
            "observed": self.observed,
            "level": self.level,
            "trend": self.trend,
            "seasonal": list(self.seasonal),
            "first_season": list(self.first_season),
            "deviation_sum": self._deviation_sum,
        }

    @classmethod
    def from_json(cls, data: Any) -> SeasonalBaseline:
        """Rebuild a baseline from ``to_json()``; ValueError says what is wrong with damaged state."""
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"baseline state must be an object with version {STATE_VERSION}")
        try:
            baseline = cls(BaselineSettings(**data["settings"]))
            baseline.observed = _count(data["observed"])
            baseline.level = _number(data["level"])
            baseline.trend = _number(data["trend"])
            baseline.seasonal = [_number(v) for v in data["seasonal"]]
            baseline.first_season = [_number(v) for v in data["first_season"]]
            baseline._deviation_sum = _number(data["deviation_sum"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"baseline state: missing or malformed field {exc}") from None
        season = baseline.settings.season_buckets
        if baseline.seasonal and len(baseline.seasonal) != season:
            raise ValueError("baseline state: seasonal offsets do not match season_buckets")
        if len(baseline.first_season) >= season or (baseline.seasonal and baseline.first_season):
            raise ValueError("baseline state: first_season is inconsistent with the seasonal offsets")
        return baseline


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"baseline state: expected a finite number, got {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"baseline state: expected a non-negative integer, got {value!r}")
    return value
