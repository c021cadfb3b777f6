"""A user-supplied photo catalogue: a folder of product photos and its manifest (issue 12: a real model, real photos).

Against a live target with a real vision model, the drawn catalogue (imagehost.factory) may not look like anything
the model knows. Given a photo folder (`--photos DIR`, targets file `[photos] dir`, or FASHION_PHOTOS_DIR), the
suite indexes and searches these photos instead. The folder holds the photos and `manifest.yaml` (or `.yml`,
`.json`):

    photos:
      - file: shirt-red.jpg           # required: a file of the folder (PNG, JPEG or GIF: every API takes these)
        productId: shirt-red          # optional (default: the file name's stem); unique
        name: Red oxford shirt        # optional product fields of the index files (strings)
        category1Id: top
        category2Id: shirt
        category3Id: ""
        s1: red
        s2: sale
        items:                        # optional: what the photo shows (for the reports; boxes in fractions)
          - category: SHIRT
            box: [0.12, 0.08, 0.88, 0.95]
        query: true                   # optional: the photo the searches use (default: the first with items)

Every value is checked against the documents' limits (contracts v2 and Maker `index.field_max_length`, the filter
grammar's reserved ',' and ':', the image formats and sizes every API accepts); a bad manifest is a PhotoError
naming the key, e.g. `photos[3].file: no such file 'x.jpg' in DIR`. `seen` keeps the photos in which the target's
model finds an item (through the detect call a suite kit gives it).
"""

from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image, UnidentifiedImageError

from . import checks, contracts, waits

MANIFEST_NAMES = ("manifest.yaml", "manifest.yml", "manifest.json")
PRODUCT_FIELDS = ("name", "category1Id", "category2Id", "category3Id", "s1", "s2")
FILTERED = ("category1Id", "category2Id", "category3Id", "s1", "s2")  # filter fields: ',' and ':' are reserved
KEYS = ("file", "productId", *PRODUCT_FIELDS, "items", "query")
ITEM_KEYS = ("category", "box")
MIN_PHOTOS = 4  # the searches need a query product, a product whose image duplicates share, and two others
PRODUCT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # also a safe image host file name (imagehost NAME_RE)
FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif"}  # the formats all four image guides accept


class PhotoError(ValueError):
    """A usage error in the photo folder or its manifest; the message names the key."""


@dataclass(frozen=True)
class ExpectedItem:
    """An item the manifest says the photo shows: a category and, optionally, its box (fractions x0, y0, x1, y1)."""

    category: str
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class Photo:
    """One photo of the catalogue: its bytes, product fields and expected items."""

    file: str
    product_id: str
    fields: dict[str, str]
    items: tuple[ExpectedItem, ...]
    query: bool
    data: bytes
    fmt: str  # png | jpeg | gif
    width: int
    height: int
    backdrop: float  # mean distance of the border pixels from white (0: a white studio backdrop; 255: black)

    @property
    def host_name(self) -> str:
        """The name under which the image host serves it (product ids are safe file names)."""
        return f"photo-{self.product_id}.{'jpg' if self.fmt == 'jpeg' else self.fmt}"

    def describe(self) -> str:
        expected = ", ".join(i.category for i in self.items) or "nothing listed"
        return f"photo {self.file} (product {self.product_id}; manifest expects: {expected})"


@dataclass(frozen=True)
class PhotoCatalogue:
    folder: Path
    photos: tuple[Photo, ...]

    def roles(self, seen: list[Photo]) -> tuple[Photo, Photo, tuple[Photo, Photo]]:
        """(query, shared, pair) among `seen` (at least MIN_PHOTOS): the query photo (if seen, else the first); the
        pair, whose photos the suite puts side by side on white, the two with one listed item and the lightest
        backdrop; the shared image (duplicates are indexed with it) the next photo, one listed item first."""
        query = self.query if self.query in seen else seen[0]
        others = sorted((p for p in seen if p is not query), key=lambda p: (len(p.items) != 1, p.backdrop))
        pair = (others[0], others[1])
        shared = sorted(others[2:], key=lambda p: len(p.items) != 1)[0]
        return query, shared, pair

    @property
    def query(self) -> Photo:
        """The photo the searches use: the one marked `query`, else the first that lists an item, else the first."""
        marked = [p for p in self.photos if p.query]
        return (marked or [p for p in self.photos if p.items] or list(self.photos))[0]


def _max_lengths() -> dict[str, int]:
    """The shorter of the v2 and Maker field limits (index file format), so one manifest serves both."""
    v2 = contracts.limit("v2", "index.field_max_length").value
    maker = contracts.limit("maker", "index.field_max_length").value
    return {k: min(int(v2[k]), int(maker.get(k, v2[k]))) for k in v2}


def _max_bytes() -> int:
    """The smallest image cap of the APIs' image guides (a photo every endpoint must accept: the tag APIs' 1 MB)."""
    caps = [contracts.limit(api, name).value for api in ("v1", "v2") for name in ("image.max_bytes", "image.tag_max_bytes")]
    caps += [contracts.limit("tagger", "image.max_bytes").value, contracts.limit("v2", "index.image_max_bytes").value]
    return int(min(caps))


def _read_manifest(folder: Path) -> tuple[str, Any]:
    for name in MANIFEST_NAMES:
        path = folder / name
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
                return name, (json.loads(text) if name.endswith(".json") else yaml.safe_load(text))
            except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
                raise PhotoError(f"{path}: not valid {'JSON' if name.endswith('.json') else 'YAML'} ({exc})") from None
    raise PhotoError(f"photo folder {folder}: no manifest ({' or '.join(MANIFEST_NAMES)})")


def _string(where: str, value: Any, limit: int | None) -> str:
    if not isinstance(value, str):
        raise PhotoError(f"{where}: expected a string, got {type(value).__name__}")
    if limit is not None and len(value) > limit:
        raise PhotoError(f"{where}: {len(value)} characters, over the documented {limit}")
    return value


def _backdrop(data: bytes) -> float:
    """Mean over the border pixels of their largest channel distance from white."""
    with Image.open(io.BytesIO(data)) as img:
        rgb = np.asarray(img.convert("RGB"), dtype=np.int16)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return float((255 - border).max(axis=1).mean())


def _image(where: str, folder: Path, name: str, max_bytes: int) -> tuple[bytes, str, int, int]:
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise PhotoError(f"{where}: {name!r} is not inside the photo folder")
    if not path.is_file():
        raise PhotoError(f"{where}: no such file {name!r} in {folder}")
    data = path.read_bytes()
    if len(data) > max_bytes:
        raise PhotoError(f"{where}: {name} is {len(data)} bytes, over {max_bytes} (the smallest image cap of the APIs)")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise PhotoError(f"{where}: {name} is not a readable image ({exc})") from None
    if fmt not in FORMATS:
        raise PhotoError(f"{where}: {name} is {fmt}; use one of {', '.join(FORMATS)} (every API accepts these)")
    return data, FORMATS[fmt], width, height


def _items(where: str, raw: Any) -> tuple[ExpectedItem, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PhotoError(f"{where}: expected a list of {{category, box}}")
    out = []
    for j, entry in enumerate(raw):
        at = f"{where}[{j}]"
        if not isinstance(entry, dict):
            raise PhotoError(f"{at}: expected a mapping with category (and box)")
        unknown = set(entry) - set(ITEM_KEYS)
        if unknown:
            raise PhotoError(f"{at}.{sorted(unknown)[0]}: unknown key (known: {', '.join(ITEM_KEYS)})")
        if "category" not in entry:
            raise PhotoError(f"{at}.category: missing")
        box = entry.get("box")
        if box is not None:
            if not (isinstance(box, list) and len(box) == 4
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
                raise PhotoError(f"{at}.box: expected [x0, y0, x1, y1] as fractions of the width and height")
            x0, y0, x1, y1 = (float(v) for v in box)
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
                raise PhotoError(f"{at}.box: expected 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, got {box}")
            box = (x0, y0, x1, y1)
        out.append(ExpectedItem(_string(f"{at}.category", entry["category"], 72), box))
    return tuple(out)


def load(folder: str | Path) -> PhotoCatalogue:
    """The catalogue of `folder`; PhotoError naming the key on anything the suite could not index or send."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise PhotoError(f"photo folder {folder} does not exist")
    name, raw = _read_manifest(folder)
    if not isinstance(raw, dict) or not isinstance(raw.get("photos"), list):
        raise PhotoError(f"{name}: expected a mapping with a list under 'photos'")
    unknown = set(raw) - {"photos"}
    if unknown:
        raise PhotoError(f"{name}: {sorted(unknown)[0]}: unknown key (known: photos)")
    lengths, max_bytes = _max_lengths(), _max_bytes()
    photos: list[Photo] = []
    seen: dict[str, str] = {}
    for i, entry in enumerate(raw["photos"]):
        where = f"photos[{i}]"
        if not isinstance(entry, dict):
            raise PhotoError(f"{where}: expected a mapping with at least 'file'")
        bad = set(entry) - set(KEYS)
        if bad:
            raise PhotoError(f"{where}.{sorted(bad)[0]}: unknown key (known: {', '.join(KEYS)})")
        if "file" not in entry:
            raise PhotoError(f"{where}.file: missing")
        file = _string(f"{where}.file", entry["file"], None)
        pid = _string(f"{where}.productId", entry.get("productId", Path(file).stem), lengths["productId"])
        if not PRODUCT_ID_RE.fullmatch(pid):
            raise PhotoError(f"{where}.productId: {pid!r} must be letters, digits, '_', '.', '-' (starting with a "
                             "letter or digit)")
        if pid in seen:
            raise PhotoError(f"{where}.productId: {pid!r} is also the product of {seen[pid]}")
        seen[pid] = where
        fields = {}
        for key in PRODUCT_FIELDS:
            value = _string(f"{where}.{key}", entry.get(key, ""), lengths[key])
            if key in FILTERED and ("," in value or ":" in value):
                raise PhotoError(f"{where}.{key}: {value!r} holds ',' or ':', which the filter grammar reserves")
            fields[key] = value
        query = entry.get("query", False)
        if not isinstance(query, bool):
            raise PhotoError(f"{where}.query: expected true or false")
        data, fmt, width, height = _image(f"{where}.file", folder, file, max_bytes)
        photos.append(Photo(file, pid, fields, _items(f"{where}.items", entry.get("items")), query, data, fmt,
                            width, height, _backdrop(data)))
    if len(photos) < MIN_PHOTOS:
        raise PhotoError(f"{name}: photos: {len(photos)} photos; the searches need at least {MIN_PHOTOS} (a query "
                         "product, one whose image duplicates share, two others)")
    if sum(p.query for p in photos) > 1:
        raise PhotoError(f"{name}: photos: more than one photo is marked query: true")
    return PhotoCatalogue(folder, tuple(photos))


def seen(catalogue: PhotoCatalogue, detect: Callable[[Photo], Any], api: str) -> list[Photo]:
    """The photos in which the target's model finds an item (`detect(photo)` gives the detect exchange). The others
    are left out of the catalog (a model may refuse to index them: that is the model's, not a broken rule) and named
    in a warning; with fewer than MIN_PHOTOS left, the test that needs the catalog is blocked by the model."""
    found, unseen = [], []
    for photo in catalogue.photos:
        try:
            checks.detected(detect(photo), photo.describe())
            found.append(photo)
        except pytest.skip.Exception:
            unseen.append(photo)
    if unseen:
        warnings.warn(f"{api}: the target's model found no item in {len(unseen)} photo(s), left out of the catalog: "
                      + "; ".join(p.describe() for p in unseen), stacklevel=1)
    if len(found) < MIN_PHOTOS:
        waits.no_item(f"photos {', '.join(p.file for p in unseen)} ({len(unseen)} of {len(catalogue.photos)}: fewer "
                      f"than {MIN_PHOTOS} left for the catalog)")
    return found
