"""Which module collects which platform; modules are imported only when a source needs them."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel

from collectors.base import Collector, SourceConfigError, parse_config
from core.settings import Settings

# platform -> (module, config model); each module has build(query, config, settings).
PLATFORMS: dict[str, tuple[str, str]] = {
    "twitter": ("collectors.twitter", "TwitterSourceConfig"),
    "reddit": ("collectors.reddit", "RedditSourceConfig"),
    "appstore": ("collectors.appstore", "AppStoreSourceConfig"),
    "rss": ("collectors.rss", "RssSourceConfig"),
    "file": ("collectors.filesource", "FileSourceConfig"),
}


def supported_platforms() -> list[str]:
    """Platforms a source can be created for."""
    return sorted(PLATFORMS)


def _module(platform: str) -> Any:
    if platform not in PLATFORMS:
        raise SourceConfigError(
            f"no collector for platform {platform!r}; use one of {', '.join(supported_platforms())}"
        )
    return importlib.import_module(PLATFORMS[platform][0])


def validate_config(platform: str, config: dict[str, Any]) -> dict[str, Any]:
    """Check a source's config against its platform's model; return it normalised."""
    model: type[BaseModel] = getattr(_module(platform), PLATFORMS[platform][1])
    return parse_config(model, platform, config).model_dump(mode="json", exclude_none=True)


def build_collector(
    platform: str, query: str, config: dict[str, Any], settings: Settings
) -> Collector:
    """A ready collector for a source (credentials from settings)."""
    collector: Collector = _module(platform).build(query, config, settings)
    return collector
