"""RFC 5005 archived feeds: the whole history of a feed, in pages that do not move.

A feed's articles are cut into pages of ``page_size`` in storing order (store ids only
grow), oldest page first: page k always holds the same articles, and new articles only ever
fill the last page, then open a new one. So a full page never changes once the page after it
exists ("sealed"), and is written once. The current (subscription) document links to the
newest page with ``prev-archive``; each page links to the subscription document
(``current``), the older page (``prev-archive``) and the newer one (``next-archive``), and
carries ``fh:archive``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from feeds.render import ArchiveLinks, FeedInfo

ARCHIVE_PAGE_SIZE = 100
ARCHIVE_DIR = "archive"  # feeds/archive/<feed slug>/<k>.<format>


@dataclass(frozen=True, slots=True)
class ArchivePage:
    info: FeedInfo  # the page as a feed: slug archive/<feed slug>/<k>, its own self URL
    index: int
    ids: list[int]  # store ids of its articles, in storing order
    last_guid: str
    links: ArchiveLinks
    sealed: bool  # full, and a newer page exists: its bytes never change again


def archive_info(info: FeedInfo, index: int) -> FeedInfo:
    """The feed description of page ``index`` of ``info``'s archive."""
    if not info.self_url.endswith(f"/{info.slug}"):
        raise ValueError(f"self URL {info.self_url!r} does not end with the slug {info.slug!r}")
    root = info.self_url[: -len(info.slug)]
    slug = f"{ARCHIVE_DIR}/{info.slug}/{index}"
    return replace(
        info,
        slug=slug,
        self_url=root + slug,
        title=f"{info.title} (archive, page {index + 1})",
    )


def archive_pages(
    info: FeedInfo, history: list[tuple[int, str]], page_size: int = ARCHIVE_PAGE_SIZE
) -> list[ArchivePage]:
    """The archive pages of a feed whose articles are ``history`` ((id, guid), storing order)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    chunks = [history[i : i + page_size] for i in range(0, len(history), page_size)]
    infos = [archive_info(info, k) for k in range(len(chunks))]
    pages = []
    for k, chunk in enumerate(chunks):
        newer = k + 1 < len(chunks)
        links = ArchiveLinks(
            current=info.self_url,
            prev=infos[k - 1].self_url if k > 0 else None,
            next=infos[k + 1].self_url if newer else None,
            is_archive=True,
        )
        pages.append(
            ArchivePage(
                info=infos[k],
                index=k,
                ids=[article_id for article_id, _ in chunk],
                last_guid=chunk[-1][1],
                links=links,
                sealed=newer,  # (so it is full too)
            )
        )
    return pages


def current_links(info: FeedInfo, pages: list[ArchivePage]) -> ArchiveLinks:
    """Links of the subscription document: ``prev-archive`` to the newest page, if any."""
    return ArchiveLinks(current=info.self_url, prev=pages[-1].info.self_url if pages else None)
