"""Where things live in the static build / publication, and their URIs under a base URL.

One place for these names, shared by iiif (writes them), publish (uploads and indexes them) and
serve (answers them). ``base_url`` always ends with ``/``.

Ids of any script (地文0001, full-width, spaces, ``#``, ``%``, ``?``) follow two rules, applied here
and nowhere else:

- **one normalisation**: ids are Unicode NFC (:func:`norm_id`; ingest makes every id NFC, whatever
  the file system handed over, so an NFD folder name gives the same id as its NFC twin);
- **one encoding**: a *path* (a file in the build, a key in the publication folder or S3 bucket,
  what the state store and sync compare) is the plain NFC text; its *URI* is ``base_url`` plus the
  path percent-encoded as UTF-8 (RFC 3986, :func:`encode_path`), and a URI goes back to its path only
  through :func:`path_of`. So ``iiif/地文 #1/manifest.json`` is the key, and
  ``…/iiif/%E5%9C%B0%E6%96%87%20%231/manifest.json`` its id; web servers and S3 decode the one
  into the other.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote

from guji.model import canvas_slug as slug  # the one slug rule: ``A/v1/0001-r`` → ``A_v1_0001-r``

# kept as is in URIs: unreserved characters, the path separator, and the sub-delimiters the
# Image API's own paths use (``0,0,512,512``, ``90,``); everything else is percent-encoded
_SAFE = "/:-_.~,"


def norm_base(base_url: str) -> str:
    return base_url if base_url.endswith("/") else base_url + "/"


def norm_id(identifier: str) -> str:
    """The one normalisation of ids and paths: Unicode NFC."""
    return unicodedata.normalize("NFC", identifier)


def encode_path(path: str) -> str:
    """The one encoding: a publication path (or any id put into a URI) → its URI form."""
    return quote(norm_id(path), safe=_SAFE)


def path_of(uri_or_path: str, base_url: str | None = None) -> str | None:
    """The publication path a URI names (fragment and query dropped, percent-decoding undone).

    With ``base_url``: None when the URI is not under it. The inverse of :func:`uri`."""
    s = uri_or_path
    if base_url is not None:
        base = norm_base(base_url)
        if not s.startswith(base):
            return None
        s = s[len(base):]
    s = s.split("#", 1)[0].split("?", 1)[0]
    return norm_id(unquote(s))


def uri(base_url: str, path: str) -> str:
    """The URI of a publication path: ``base_url`` + :func:`encode_path` (inverse: :func:`path_of`)."""
    return norm_base(base_url) + encode_path(path)


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
