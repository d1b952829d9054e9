"""Quantiles of non-negative values (response sizes, durations) with a relative-error guarantee.

A DDSketch-style log histogram: value v > 0 lands in bin ceil(log_gamma(v)), gamma = (1+a)/(1-a), so every
quantile it answers is within relative accuracy ``a`` of the true one; bins merge by addition, so merging is
exact (associative and commutative) and the result is what one sketch fed both streams would hold.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from tracesec.sketches._codec import SketchFormatError, pack, unpack
from tracesec.sketches.base import Sketch

_PARAMS = struct.Struct("<dI")
_COUNTS = struct.Struct("<qI")
SMALLEST_POSITIVE = 1e-9
"""Values at or below this (and 0) are counted in a separate zero bin."""


class QuantileSketch(Sketch):
    """At most ``max_bins`` bins; beyond that the lowest bins fold together, so the high quantiles (what
    exfiltration checks ask for) keep their guarantee while memory stays bounded."""

    kind = "quantiles"
    __slots__ = (
        "_gamma",
        "_inverse_log_gamma",
        "bins",
        "count",
        "max_bins",
        "relative_accuracy",
        "zero_count",
    )

    def __init__(self, relative_accuracy: float = 0.01, max_bins: int = 1024) -> None:
        if not 0.0 < relative_accuracy < 1.0:
            raise ValueError("relative_accuracy must be between 0 and 1")
        if not 16 <= max_bins <= 1 << 20:
            raise ValueError("max_bins must be from 16 to 2**20")
        self.relative_accuracy = relative_accuracy
        self.max_bins = max_bins
        self._gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._inverse_log_gamma = 1.0 / math.log(self._gamma)
        self.bins: dict[int, int] = {}
        self.zero_count = 0
        self.count = 0

    def add(self, value: float) -> None:
        if value > SMALLEST_POSITIVE:
            key = math.ceil(math.log(value) * self._inverse_log_gamma)
            bins = self.bins
            bins[key] = bins.get(key, 0) + 1
            if len(bins) > self.max_bins:
                self._fold_lowest()
        elif value >= 0:
            self.zero_count += 1
        else:
            raise ValueError("QuantileSketch takes non-negative values")
        self.count += 1

    def quantile(self, q: float) -> float | None:
        """The value below which a share ``q`` of values fall; None when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError("q must be from 0 to 1")
        if not self.count:
            return None
        rank = q * (self.count - 1)
        seen = self.zero_count
        if seen > rank:
            return 0.0
        for key in sorted(self.bins):
            seen += self.bins[key]
            if seen > rank:
                return 2 * self._gamma**key / (self._gamma + 1)
        return 2 * self._gamma ** max(self.bins) / (self._gamma + 1)

    def _fold_lowest(self) -> None:
        keys = sorted(self.bins)
        keep_from = keys[len(keys) - self.max_bins]
        folded = sum(self.bins.pop(key) for key in keys if key < keep_from)
        self.bins[keep_from] += folded

    def _params(self) -> tuple[float, int]:
        return (self.relative_accuracy, self.max_bins)

    def merged(self, other: QuantileSketch) -> QuantileSketch:
        self._check_compatible(other, self._params(), other._params())
        result = QuantileSketch(self.relative_accuracy, self.max_bins)
        result.bins = dict(self.bins)
        for key, count in other.bins.items():
            result.bins[key] = result.bins.get(key, 0) + count
        while len(result.bins) > result.max_bins:
            result._fold_lowest()
        result.zero_count = self.zero_count + other.zero_count
        result.count = self.count + other.count
        return result

    def to_bytes(self) -> bytes:
        keys = sorted(self.bins)
        payload = (
            _COUNTS.pack(self.zero_count, len(keys))
            + np.asarray(keys, dtype="<i4").tobytes()
            + np.asarray([self.bins[k] for k in keys], dtype="<i8").tobytes()
        )
        return pack(self.kind, _PARAMS, self._params(), payload)

    @classmethod
    def from_bytes(cls, data: bytes) -> QuantileSketch:
        (accuracy, max_bins), payload = unpack(cls.kind, _PARAMS, data)
        try:
            sketch = cls(accuracy, max_bins)
            zero_count, size = _COUNTS.unpack_from(payload)
        except (ValueError, struct.error) as exc:
            raise SketchFormatError(f"quantiles: {exc}") from None
        body = payload[_COUNTS.size :]
        if len(body) != 12 * size or size > max_bins or zero_count < 0:
            raise SketchFormatError("quantiles: bin table does not match its length")
        keys = np.frombuffer(body[: 4 * size], dtype="<i4").tolist()
        counts = np.frombuffer(body[4 * size :], dtype="<i8").tolist()
        if any(count <= 0 for count in counts):
            raise SketchFormatError("quantiles: bin counts must be positive")
        sketch.bins = dict(zip(keys, counts, strict=True))
        sketch.zero_count = zero_count
        sketch.count = zero_count + sum(counts)
        return sketch
