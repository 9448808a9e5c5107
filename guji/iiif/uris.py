"""Where things live in the static build / publication, and their URIs under a base URL.

One place for these names, shared by iiif (writes them), publish (uploads and indexes them) and
serve (answers them). Paths are relative to the build / publication root; URIs are
``base_url + path``. ``base_url`` always ends with ``/``.
"""

from __future__ import annotations

from urllib.parse import quote


def norm_base(base_url: str) -> str:
    return base_url if base_url.endswith("/") else base_url + "/"


def slug(identifier: str) -> str:
    """A canvas/page id as one path segment: ``A/v1/0001-r`` → ``A_v1_0001-r``."""
    return identifier.replace("/", "_")


def uri(base_url: str, path: str) -> str:
    return norm_base(base_url) + quote(path, safe="/:-_.~,")


def manifest_path(item_id: str) -> str:
    return f"iiif/{item_id}/manifest.json"


def canvas_uri(base_url: str, item_id: str, canvas_id: str) -> str:
    return uri(base_url, f"iiif/{item_id}/canvas/{slug(canvas_id)}")


def annotation_page_path(item_id: str, canvas_id: str) -> str:
    return f"iiif/{item_id}/annotations/{slug(canvas_id)}.json"


def image_service_path(canvas_id: str) -> str:
    """Folder of the level-0 image service (info.json + tiles) of one canvas."""
    return f"iiif/images/{slug(canvas_id)}"


def collection_path(kind: str, name: str) -> str:
    """``kind`` is ``batch`` or ``institution``."""
    return f"iiif/collection/{kind}-{name}.json"


def mods_path(item_id: str) -> str:
    return f"metadata/{item_id}.mods.xml"


def search_index_path() -> str:
    return "search/index.sqlite"


def content_search_uri(base_url: str, item_id: str, version: int = 2) -> str:
    """IIIF Content Search endpoint of one manifest, answered by ``guji serve``."""
    return uri(base_url, f"search/{version}/{item_id}")
