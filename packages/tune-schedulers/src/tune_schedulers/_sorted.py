"""A sorted list with insertion, removal, rank and indexing in about O(sqrt n), standard library only.

Values live in sorted blocks of at most ``_LOAD * 2`` items; ``bisect`` finds the block and the
position, and the blocks' C-level ``list`` moves stay short. PBT ranks 100,000 trials with it
without re-sorting the population at every perturbation.
"""

from __future__ import annotations

import bisect
from typing import Any

_LOAD = 512


class SortedList:
    __slots__ = ("_blocks", "_maxes", "_size")

    def __init__(self) -> None:
        self._blocks: list[list[Any]] = []
        self._maxes: list[Any] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, value: Any) -> None:
        self._size += 1
        if not self._blocks:
            self._blocks.append([value])
            self._maxes.append(value)
            return
        index = min(bisect.bisect_left(self._maxes, value), len(self._blocks) - 1)
        block = self._blocks[index]
        bisect.insort(block, value)
        self._maxes[index] = block[-1]
        if len(block) > 2 * _LOAD:
            self._blocks[index : index + 1] = [block[:_LOAD], block[_LOAD:]]
            self._maxes[index : index + 1] = [block[_LOAD - 1], block[-1]]

    def remove(self, value: Any) -> None:
        """Remove one occurrence of ``value``; ``ValueError`` if absent."""
        index = bisect.bisect_left(self._maxes, value)
        if index == len(self._blocks):
            raise ValueError(f"{value!r} is not in the list")
        block = self._blocks[index]
        position = bisect.bisect_left(block, value)
        if position == len(block) or block[position] != value:
            raise ValueError(f"{value!r} is not in the list")
        del block[position]
        self._size -= 1
        if block:
            self._maxes[index] = block[-1]
        else:
            del self._blocks[index]
            del self._maxes[index]

    def rank(self, value: Any) -> int:
        """How many values are smaller than ``value``."""
        index = bisect.bisect_left(self._maxes, value)
        before = sum(len(block) for block in self._blocks[:index])
        if index == len(self._blocks):
            return before
        return before + bisect.bisect_left(self._blocks[index], value)

    def __getitem__(self, position: int) -> Any:
        if position < 0:
            position += self._size
        if not 0 <= position < self._size:
            raise IndexError(position)
        for block in self._blocks:
            if position < len(block):
                return block[position]
            position -= len(block)
        raise IndexError(position)
