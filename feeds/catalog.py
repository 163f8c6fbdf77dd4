"""Which feeds govfeed publishes: per source, per (source, channel), all combined, and one
per keyword watch.

``published_feeds`` is the one list every page that shows feeds reads (the index, the OPML
file, the status page), so a feed is listed exactly where it is written.
"""

from __future__ import annotations

from feeds.render import FeedInfo
from feeds.slugs import channel_slugs
from scraper.sources import Config, Source, Watch
from scraper.store import Store

COMBINED = "all"
HUB_PATH = "/websub"  # the WebSub hub endpoint of `govfeed run`


def hub_for(base_url: str) -> str:
    return base_url.rstrip("/") + HUB_PATH


def source_info(source: Source, base_url: str, hub_url: str | None) -> FeedInfo:
    base = base_url.rstrip("/")
    return FeedInfo(
        slug=source.name,
        title=source.title,
        homepage=str(source.homepage),
        self_url=f"{base}/feeds/{source.name}",
        description=f"News from {source.title}, collected by govfeed",
        lang=source.language,
        hub_url=hub_url,
        source=source.name,
    )


def combined_info(config: Config, base_url: str, hub_url: str | None) -> FeedInfo:
    base = base_url.rstrip("/")
    langs = {s.language for s in config.sources}
    return FeedInfo(
        slug=COMBINED,
        title="govfeed: all sources",
        homepage=f"{base}/",
        self_url=f"{base}/feeds/{COMBINED}",
        description="News from every configured government source",
        lang=langs.pop() if len(langs) == 1 else None,
        hub_url=hub_url,
    )


def watch_info(watch: Watch, base_url: str, hub_url: str | None) -> FeedInfo:
    base = base_url.rstrip("/")
    return FeedInfo(
        slug=watch.slug,
        title=watch.title or f"govfeed watch: {watch.query}",
        homepage=f"{base}/",
        self_url=f"{base}/feeds/{watch.slug}",
        description=f"Articles from every source matching {watch.query!r}",
        hub_url=hub_url,
        query=watch.query,
    )


def channel_infos(
    source: Source, channels: list[str], base_url: str, hub_url: str | None
) -> list[FeedInfo]:
    """One feed per channel of a source: ``/feeds/<source>/<channel slug>``."""
    parent = source_info(source, base_url, hub_url)
    return [
        FeedInfo(
            slug=f"{source.name}/{slug}",
            title=f"{source.title}: {name}",
            homepage=parent.homepage,
            self_url=f"{parent.self_url}/{slug}",
            description=f"{name}, a section of {source.title}, collected by govfeed",
            lang=source.language,
            hub_url=hub_url,
            source=source.name,
            channel=name,
        )
        for name, slug in sorted(channel_slugs(channels).items(), key=lambda kv: kv[1])
    ]


def feed_infos(config: Config, base_url: str, hub_url: str | None = None) -> list[FeedInfo]:
    """The per-source feeds, the combined one, the watches (no store needed; no channels)."""
    hub = hub_url if hub_url is not None else hub_for(base_url)
    infos = [source_info(s, base_url, hub) for s in config.sources]
    watches = [watch_info(w, base_url, hub) for w in config.watches]
    return [*infos, combined_info(config, base_url, hub), *watches]


def published_feeds(
    config: Config, store: Store, base_url: str, hub_url: str | None = None
) -> list[FeedInfo]:
    """Every feed govfeed publishes: each source followed by its channels, ``all``, watches.

    Each has a title, a slug and a URL per format (``info.url("atom"|"rss"|"json")``).
    """
    hub = hub_url if hub_url is not None else hub_for(base_url)
    infos: list[FeedInfo] = []
    for source in config.sources:
        infos.append(source_info(source, base_url, hub))
        infos += channel_infos(source, store.channels(source.name), base_url, hub)
    infos.append(combined_info(config, base_url, hub))
    return infos + [watch_info(w, base_url, hub) for w in config.watches]
