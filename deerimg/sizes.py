"""Image sizes: the rule a family's sizes keep, and the size an aspect and a tier make of it."""

from __future__ import annotations

import re
from dataclasses import dataclass

WXH = re.compile(r"^([1-9][0-9]{1,4})x([1-9][0-9]{1,4})$")


@dataclass(slots=True)
class Sizes:
    """What `size` a family takes: named values (auto, tiers such as 2K, presets such as
    1024x1536) and, where it takes any WxH, the rule that WxH must keep."""

    named: tuple[str, ...] = ()
    free: bool = False  # any WxH within the bounds below
    multiple: int = 1  # each side a multiple of this
    max_ratio: float | None = None  # long side over short side
    min_side: int | None = None
    max_side: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None

    def refusal(self, size: str) -> str | None:
        """Why SIZE is not one this family takes, or None when it is."""
        if size in self.named:
            return None
        match = WXH.match(size)
        if not self.free or match is None:
            return f"takes {self.describe()}"
        width, height = int(match.group(1)), int(match.group(2))
        long, short = max(width, height), min(width, height)
        broken = (
            (width % self.multiple or height % self.multiple)
            or (self.max_ratio is not None and long > short * self.max_ratio)
            or (self.min_side is not None and short < self.min_side)
            or (self.max_side is not None and long > self.max_side)
            or (self.min_pixels is not None and width * height < self.min_pixels)
            or (self.max_pixels is not None and width * height > self.max_pixels)
        )
        return f"takes {self.describe()}" if broken else None

    def describe(self) -> str:
        """2K, 4K or WxH (3,686,400 to 16,777,216 pixels, ratio at most 16:1)."""
        parts = list(self.named)
        if self.free:
            rule = []
            if self.multiple > 1:
                rule.append(f"sides multiples of {self.multiple}")
            if self.min_side is not None:
                rule.append(f"sides {self.min_side} to {self.max_side}")
            elif self.max_side is not None:
                rule.append(f"sides up to {self.max_side}")
            if self.min_pixels is not None:
                rule.append(f"{self.min_pixels:,} to {self.max_pixels:,} pixels")
            elif self.max_pixels is not None:
                rule.append(f"up to {self.max_pixels:,} pixels")
            if self.max_ratio is not None:
                rule.append(f"ratio at most {self.max_ratio:g}:1")
            parts.append("WxH" + (f" ({', '.join(rule)})" if rule else ""))
        return ", ".join(parts[:-1]) + (" or " if len(parts) > 1 else "") + parts[-1]


TIER_PIXELS = {
    "512px": 512 * 512,
    "1K": 1024 * 1024,
    "2K": 2048 * 2048,
    "3K": 3072 * 3072,
    "4K": 4096 * 4096,
}
ASPECT = re.compile(r"^([1-9][0-9]{0,2}):([1-9][0-9]{0,2})$")


def parse_aspect(text: str) -> tuple[int, int] | None:
    """16:9 → (16, 9); None for anything else."""
    match = ASPECT.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def size_for(
    sizes: Sizes, aspect: tuple[int, int] | None, resolution: str | None, *, generic: bool = False
) -> str | None:
    """The size SIZES allow for --aspect and --resolution: a tier alone where that says it
    (Seedream picks the shape itself then), else an explicit WxH of that ratio on the grid, as
    near the tier's pixels as the rule allows; where only named sizes are allowed, the one
    nearest in ratio. GENERIC: a family deerimg does not know, sent a tier as typed. None when
    no size the flags can name is allowed."""
    if aspect is None:
        if resolution is None or resolution in sizes.named or generic:
            return resolution
        aspect = (1, 1)
    if not sizes.free:
        presets = [size for size in sizes.named if WXH.match(size)]
        if not presets:
            return None
        return min(presets, key=lambda size: abs(_ratio(size) - aspect[0] / aspect[1]))
    target = TIER_PIXELS.get(resolution or "", 1024 * 1024)
    if sizes.max_pixels is not None:
        target = min(target, sizes.max_pixels)
    if sizes.min_pixels is not None:
        target = max(target, sizes.min_pixels)
    step = max(sizes.multiple, 16)
    ratio = aspect[0] / aspect[1]
    height = (target / ratio) ** 0.5
    for _ in range(64):  # shrink until the family's rule holds: a handful of steps at most
        width_px = max(step, round(height * ratio / step) * step)
        height_px = max(step, round(height / step) * step)
        size = f"{width_px}x{height_px}"
        if sizes.refusal(size) is None:
            return size
        height *= (
            0.97
            if (sizes.max_pixels and width_px * height_px > sizes.max_pixels)
            or (sizes.max_side and max(width_px, height_px) > sizes.max_side)
            else 1.03
        )
    return None


def _ratio(size: str) -> float:
    width, height = size.split("x")
    return int(width) / int(height)
