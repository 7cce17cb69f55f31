"""Course images: uploaded files checked and cleaned (raster re-encoded in sRGB without
metadata, SVG sanitised), stored as course assets, and the Markdown that shows them.

Nothing here commits: the request (or the CLI command) that calls these owns the transaction.
"""

from __future__ import annotations

import enum
import hashlib
import os
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageCms, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import undefer
from werkzeug.utils import secure_filename

from academy import svg
from academy.courses import content
from academy.courses.models import Course, CourseAsset, Unit
from academy.db import Taken, unique_or_taken, utcnow
from academy.extensions import db


def image_size(data: bytes, mime: str) -> tuple[int, int]:
    if mime == content.SVG_MIME:
        checked = svg.check_svg(data)
        return checked.width, checked.height
    with Image.open(BytesIO(data)) as image:
        return image.size


MAX_UPLOAD_BYTES = 2 * 1024 * 1024


IMAGE_FORMATS = {
    "PNG": ("image/png", (".png",)),
    "JPEG": ("image/jpeg", (".jpg", ".jpeg")),
    "WEBP": ("image/webp", (".webp",)),
}


# Pixel modes kept as they are; anything else (palette, CMYK, …) is converted to RGB or RGBA.
WRITABLE_MODES = {
    "JPEG": ("L", "RGB"),
    "PNG": ("1", "L", "LA", "I", "I;16", "RGB", "RGBA"),
    "WEBP": ("RGB", "RGBA"),
}


SVG_SUFFIXES = (".svg",)


class ImageProblem(enum.Enum):
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSAFE_SVG = "unsafe_svg"


class ImageRejected(Exception):
    """``details``: for an SVG, each problem found in it, as ``línea N: message``."""

    def __init__(self, problem: ImageProblem, details: tuple[str, ...] = ()) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.details = details


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    format: str
    mime: str
    width: int
    height: int


def clean_image(data: bytes) -> CleanImage:
    """Decode a PNG, JPEG or WebP and encode it again in the same format, without metadata.

    The file's own bytes decide what it is, never its name or the browser's word. EXIF
    orientation is applied first, so photos stay upright once the EXIF block is gone; colours
    are converted to sRGB when the file carries another profile. Raises :class:`ImageRejected`.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected(ImageProblem.TOO_LARGE)
    try:
        with content.open_image(BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            image_format = str(image.format)
            image.load()
            upright = ImageOps.exif_transpose(image)
            icc_profile = image.info.get("icc_profile")
            transparent = "transparency" in image.info
    except content.TooManyPixels as error:
        raise ImageRejected(ImageProblem.TOO_MANY_PIXELS) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejected(ImageProblem.NOT_AN_IMAGE) from error
    try:
        pixels = _to_srgb(_plain_mode(upright, image_format, transparent), icc_profile)
        # A new image from the raw pixels: no EXIF, XMP, comment, text chunk or profile is left.
        clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
        out = BytesIO()
        if image_format == "JPEG":
            clean.save(out, "JPEG", quality=90, optimize=True)
        elif image_format == "PNG":
            clean.save(out, "PNG", optimize=True)
        else:
            clean.save(out, "WEBP", quality=90, method=4)
    except (OSError, ValueError) as error:  # a pixel format Pillow cannot convert or write
        raise ImageRejected(ImageProblem.NOT_AN_IMAGE) from error
    return CleanImage(
        out.getvalue(), image_format, IMAGE_FORMATS[image_format][0], clean.width, clean.height
    )


def clean_svg(data: bytes) -> CleanImage:
    """An SVG drawing, kept as written once :func:`academy.svg.check_svg` passes it.

    Raises :class:`ImageRejected` with every problem found, each with its line.
    """
    checked = svg.check_svg(data)
    if not checked.ok:
        details = tuple(
            f"línea {p.line}: {p.message}" if p.line else p.message for p in checked.problems
        )
        raise ImageRejected(ImageProblem.UNSAFE_SVG, details)
    return CleanImage(data, "SVG", content.SVG_MIME, checked.width, checked.height)


def _plain_mode(image: Image.Image, image_format: str, transparent: bool) -> Image.Image:
    """A mode every format can write: palettes and CMYK become RGB (or RGBA)."""
    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and transparent)
    if image.mode in WRITABLE_MODES[image_format]:
        return image
    return image.convert("RGBA" if alpha and image_format != "JPEG" else "RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if not icc_profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are
    return converted if converted is not None else image


def image_file_name(filename: str, image_format: str) -> str:
    """A safe, lower-case file name whose extension tells the real format."""
    stem, extension = os.path.splitext(filename.replace("\\", "/"))
    stem = secure_filename(stem).lower().strip("._-")[:80] or "imagen"
    suffixes = SVG_SUFFIXES if image_format == "SVG" else IMAGE_FORMATS[image_format][1]
    return stem + (extension.lower() if extension.lower() in suffixes else suffixes[0])


def unit_assets(course: Course, unit: Unit) -> list[CourseAsset]:
    query = (
        select(CourseAsset)
        .where(CourseAsset.course_id == course.id, CourseAsset.path.startswith(f"{unit.slug}/"))
        .order_by(CourseAsset.path)
    )
    return list(db.session.scalars(query))


def get_asset(course: Course, path: str, *, with_data: bool = False) -> CourseAsset | None:
    query = select(CourseAsset).where(CourseAsset.course_id == course.id, CourseAsset.path == path)
    if with_data:
        query = query.options(undefer(CourseAsset.data))
    return db.session.scalar(query)


def store_image(
    course: Course, unit: Unit, *, filename: str, data: bytes, uploaded_by_id: int
) -> tuple[CourseAsset, bool]:
    """Clean and keep an uploaded image beside ``unit``'s lessons; True if it replaced one.

    Raises :class:`ImageRejected`.
    """
    image = clean_svg(data) if svg.looks_like_svg(data, filename) else clean_image(data)
    path = f"{unit.slug}/{image_file_name(filename, image.format)}"
    asset = get_asset(course, path)
    if asset is None:
        try:
            with unique_or_taken():
                asset = CourseAsset(course_id=course.id, path=path)
                _fill_asset(asset, image, uploaded_by_id)
                db.session.add(asset)
            return asset, False
        except Taken:
            # Uploaded under the same name by someone else at the same moment: this upload
            # replaces it, as it would have a moment later.
            asset = get_asset(course, path)
            assert asset is not None
    _fill_asset(asset, image, uploaded_by_id)
    db.session.flush()
    return asset, True


def _fill_asset(asset: CourseAsset, image: CleanImage, uploaded_by_id: int) -> None:
    asset.mime = image.mime
    asset.data = image.data
    asset.sha256 = hashlib.sha256(image.data).hexdigest()
    asset.width, asset.height = image.width, image.height
    asset.uploaded_by_id = uploaded_by_id
    asset.created_at = utcnow()


def image_markdown(alt: str, name: str) -> str:
    """The Markdown that shows image ``name`` from a lesson of the same unit."""
    alt = " ".join(alt.split())
    for char in ("\\", "[", "]"):
        alt = alt.replace(char, "\\" + char)
    return f"![{alt}]({name})"
