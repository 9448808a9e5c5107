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


# -- added by the iiif stage (issue #5); everything above is unchanged ----------------------------

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"


def image_service_uri(base_url: str, canvas_id: str) -> str:
    """The ``id`` of a canvas's level-0 Image API 3 service (its info.json is ``id + "/info.json"``)."""
    return uri(base_url, image_service_path(canvas_id))


def image_size_path(canvas_id: str, size: str) -> str:
    """A whole-image request of the static service: ``size`` is ``max``, ``w,h`` or ``w,``."""
    return f"{image_service_path(canvas_id)}/full/{size}/0/default.jpg"


def manifest_uri(base_url: str, item_id: str) -> str:
    return uri(base_url, manifest_path(item_id))


def volume_manifest_path(item_id: str, volume_seq: int) -> str:
    """``multi-part`` publication: one manifest per volume (册) of a very large item."""
    return f"iiif/{item_id}/v{volume_seq:02d}/manifest.json"


def item_collection_path(item_id: str) -> str:
    """``multi-part`` publication: the item's Collection of volume manifests."""
    return f"iiif/{item_id}/collection.json"


def range_uri(base_url: str, item_id: str, name: str) -> str:
    return uri(base_url, f"iiif/{item_id}/range/{name}")


def annotation_uri(base_url: str, item_id: str, canvas_id: str, line_id: str) -> str:
    return uri(base_url, f"iiif/{item_id}/annotation/{slug(canvas_id)}/{line_id}")


def build_index_path() -> str:
    """Internal list of what the build holds per item (access level, paths); not for publication."""
    return "build-index.json"
