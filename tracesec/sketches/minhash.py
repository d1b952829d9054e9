"""MinHash signatures: how alike two sets are (Jaccard similarity), e.g. the routes two actors call.

Batch work only: signatures are computed with numpy over many items at once, never per request.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import mmh3
import numpy as np
from numpy.typing import NDArray

from tracesec.sketches._codec import SketchFormatError, pack, unpack
from tracesec.sketches.base import Sketch

_PARAMS = struct.Struct("<HI")
_EMPTY = np.iinfo(np.uint64).max
_CHUNK = 4096


def _mix64(values: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64's finaliser, vectorised: turns (item hash XOR salt) into an independent-looking hash."""
    z: NDArray[np.uint64] = values.copy()
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


class MinHash(Sketch):
    """``num_perm`` minimum hashes; the share of equal positions estimates the Jaccard similarity, with
    standard error ``sqrt(J * (1 - J) / num_perm)``."""

    kind = "minhash"
    __slots__ = ("_salts", "num_perm", "seed", "signature")

    def __init__(self, num_perm: int = 128, seed: int = 0) -> None:
        if not 1 <= num_perm <= 4096:
            raise ValueError("num_perm must be from 1 to 4096")
        self.num_perm = num_perm
        self.seed = seed
        rng = np.random.default_rng(seed)
        self._salts = rng.integers(0, _EMPTY, size=num_perm, dtype=np.uint64, endpoint=True)
        self.signature = np.full(num_perm, _EMPTY, dtype=np.uint64)

    @property
    def is_empty(self) -> bool:
        return bool((self.signature == _EMPTY).all())

    def update(self, items: Iterable[str]) -> None:
        """Add many items at once (chunks bound the temporary matrix to 4096 x num_perm)."""
        batch: list[int] = []
        for item in items:
            batch.append(mmh3.hash64(item, self.seed, signed=False)[0])
            if len(batch) == _CHUNK:
                self._absorb(batch)
                batch = []
        if batch:
            self._absorb(batch)

    def _absorb(self, hashes: list[int]) -> None:
        values = np.asarray(hashes, dtype=np.uint64)[:, None] ^ self._salts[None, :]
        np.minimum(self.signature, _mix64(values).min(axis=0), out=self.signature)

    def jaccard(self, other: MinHash) -> float:
        """Estimated |A & B| / |A | B|; 0.0 when either set is empty."""
        self._check_compatible(other, self._params(), other._params())
        if self.is_empty or other.is_empty:
            return 0.0
        return float(np.count_nonzero(self.signature == other.signature)) / self.num_perm

    def _params(self) -> tuple[int, int]:
        return (self.num_perm, self.seed)

    def merged(self, other: MinHash) -> MinHash:
        """The signature of the union of both sets."""
        self._check_compatible(other, self._params(), other._params())
        result = MinHash(self.num_perm, self.seed)
        result.signature = np.minimum(self.signature, other.signature)
        return result

    def to_bytes(self) -> bytes:
        return pack(self.kind, _PARAMS, self._params(), self.signature.astype("<u8").tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> MinHash:
        (num_perm, seed), payload = unpack(cls.kind, _PARAMS, data)
        try:
            sketch = cls(num_perm, seed)
        except ValueError as exc:
            raise SketchFormatError(f"minhash: {exc}") from None
        if len(payload) != 8 * num_perm:
            raise SketchFormatError("minhash: signature length does not match num_perm")
        sketch.signature = np.frombuffer(payload, dtype="<u8").astype(np.uint64)
        return sketch
