"""What every sketch offers: a binary form, a JSON-friendly form, and a merge."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, TypeVar

from tracesec.sketches._codec import SketchFormatError, from_base64, to_base64

S = TypeVar("S", bound="Sketch")


class Sketch(ABC):
    """A bounded summary of a stream that merges: ``a.merged(b)`` estimates what one sketch fed a+b would."""

    kind: ClassVar[str]

    @abstractmethod
    def to_bytes(self) -> bytes:
        """The compact binary form (see ``tracesec.sketches._codec``)."""

    @classmethod
    @abstractmethod
    def from_bytes(cls: type[S], data: bytes) -> S:
        """Read the binary form; raises SketchFormatError when it is not this kind."""

    @abstractmethod
    def merged(self: S, other: S) -> S:
        """A new sketch summarising both streams; neither input changes."""

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "data": to_base64(self.to_bytes())}

    @classmethod
    def from_json(cls: type[S], obj: Any) -> S:
        if not isinstance(obj, dict) or obj.get("kind") != cls.kind or not isinstance(obj.get("data"), str):
            raise SketchFormatError(f"expected {{'kind': {cls.kind!r}, 'data': <base64>}}")
        return cls.from_bytes(from_base64(obj["data"]))

    def _check_compatible(self, other: Sketch, mine: tuple[Any, ...], theirs: tuple[Any, ...]) -> None:
        if type(other) is not type(self) or mine != theirs:
            raise ValueError(
                f"cannot merge {self.kind} sketches with different parameters: {mine} vs {theirs}"
            )
