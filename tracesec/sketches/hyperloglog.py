"""HyperLogLog: how many distinct keys, in 2**precision bytes, whatever their number."""

from __future__ import annotations

import math
import struct

import mmh3
import numpy as np

from tracesec.sketches._codec import SketchFormatError, pack, unpack
from tracesec.sketches.base import Sketch

_PARAMS = struct.Struct("<BI")
_LOW64 = (1 << 64) - 1


class HyperLogLog(Sketch):
    """One register per bucket holds the longest run of leading zeros seen; relative standard error is
    about ``1.04 / sqrt(2**precision)`` (1.6% at the default precision 12, 4 KiB)."""

    kind = "hyperloglog"
    __slots__ = ("_index_shift", "precision", "registers", "seed")

    def __init__(self, precision: int = 12, seed: int = 0) -> None:
        if not 4 <= precision <= 18:
            raise ValueError("precision must be from 4 to 18")
        self.precision = precision
        self.seed = seed
        self._index_shift = 128 - precision
        self.registers = bytearray(1 << precision)

    @property
    def standard_error(self) -> float:
        return 1.04 / math.sqrt(len(self.registers))

    def add(self, key: str) -> None:
        """The top bits of the key's 128-bit hash pick the register, its low 64 bits give the rank."""
        hashed = mmh3.hash128(key, self.seed)
        index = hashed >> self._index_shift
        rank = 65 - (hashed & _LOW64).bit_length()
        self.registers[index] = max(self.registers[index], rank)

    def estimate(self) -> float:
        registers = np.frombuffer(bytes(self.registers), dtype=np.uint8)
        m = registers.size
        raw = _alpha(m) * m * m / float(np.ldexp(1.0, -registers.astype(np.int32)).sum())
        zeros = int(np.count_nonzero(registers == 0))
        if raw <= 2.5 * m and zeros:
            return m * math.log(m / zeros)  # linear counting is more accurate for small cardinalities
        return raw

    def _params(self) -> tuple[int, int]:
        return (self.precision, self.seed)

    def merged(self, other: HyperLogLog) -> HyperLogLog:
        self._check_compatible(other, self._params(), other._params())
        result = HyperLogLog(self.precision, self.seed)
        mine = np.frombuffer(bytes(self.registers), dtype=np.uint8)
        theirs = np.frombuffer(bytes(other.registers), dtype=np.uint8)
        result.registers = bytearray(np.maximum(mine, theirs).tobytes())
        return result

    def to_bytes(self) -> bytes:
        return pack(self.kind, _PARAMS, self._params(), bytes(self.registers))

    @classmethod
    def from_bytes(cls, data: bytes) -> HyperLogLog:
        (precision, seed), payload = unpack(cls.kind, _PARAMS, data)
        try:
            sketch = cls(precision, seed)
        except ValueError as exc:
            raise SketchFormatError(f"hyperloglog: {exc}") from None
        if len(payload) != len(sketch.registers) or max(payload, default=0) > 65:
            raise SketchFormatError("hyperloglog: registers do not match the precision")
        sketch.registers = bytearray(payload)
        return sketch


def _alpha(m: int) -> float:
    """The bias correction of the raw HyperLogLog estimate (Flajolet et al. 2007)."""
    if m <= 16:
        return 0.673
    if m <= 32:
        return 0.697
    if m <= 64:
        return 0.709
    return 0.7213 / (1 + 1.079 / m)
