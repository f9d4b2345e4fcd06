"""The city as configuration: districts, industry clusters, policy parameters, synonyms, holidays."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class City:
    name: str
    bureau_name: str
    timezone: str
    districts: tuple[str, ...]
    emerging_clusters: tuple[str, ...]
    traditional_clusters: tuple[str, ...]
    enterprise_tags: tuple[str, ...]
    policy: dict = field(default_factory=dict)
    security: dict = field(default_factory=dict)
    synonyms: tuple[tuple[str, ...], ...] = ()
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    @property
    def clusters(self) -> tuple[str, ...]:
        return self.emerging_clusters + self.traditional_clusters


@lru_cache(maxsize=8)
def load_city(path: str) -> City:
    """Read and check a city file; an unknown or malformed file stops the app at start-up."""
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    cal = raw.get("calendar", {})
    city = City(
        name=raw["name"],
        bureau_name=raw["bureau_name"],
        timezone=raw.get("timezone", "Asia/Shanghai"),
        districts=tuple(raw["districts"]),
        emerging_clusters=tuple(raw["clusters"]["emerging"]),
        traditional_clusters=tuple(raw["clusters"]["traditional"]),
        enterprise_tags=tuple(raw.get("enterprise_tags", ())),
        policy=dict(raw.get("policy", {})),
        security=dict(raw.get("security", {})),
        synonyms=tuple(tuple(g) for g in raw.get("search", {}).get("synonyms", ())),
        holidays=frozenset(date.fromisoformat(d) for d in cal.get("holidays", ())),
        extra_working_days=frozenset(date.fromisoformat(d) for d in cal.get("extra_working_days", ())),
    )
    if not city.districts or not city.clusters or not city.enterprise_tags:
        raise ValueError(f"{path}: districts, clusters and enterprise_tags must not be empty")
    if len(set(city.districts)) != len(city.districts) or len(set(city.clusters)) != len(city.clusters):
        raise ValueError(f"{path}: districts and clusters must be unique")
    return city
