"""Certificates: the academy's logo and the signatories' signature images."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from PIL import Image

from academy import create_app
from academy.certificates import rendering, services
from academy.config import ConfigError
from academy.svg import check_svg

SIGNATURE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 60" width="200" height="60">'
    '<path d="M10 45 C 30 5, 45 60, 60 30 S 90 10, 100 40 S 160 50, 195 20" fill="none" '
    'stroke="#c0188f" stroke-width="6"/></svg>'
)
# The default logo's gold (the star) and a signature ink no template prints otherwise.
GOLD = (0xB0, 0x8D, 0x3C)
INK = (0xC0, 0x18, 0x8F)


def png(size: tuple[int, int] = (240, 80), colour: tuple[int, int, int] = INK) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def make_app(tmp_path: Path, signatories: list[dict[str, str]]):
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    return create_app(
        {
            "SECRET_KEY": "x" * 40,
            "DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
            "INSTANCE_PATH": str(instance),
            "CERTIFICATE_TEMPLATES_DIR": str(tmp_path / "plantillas"),
            "CERTIFICATE_SIGNATORIES": signatories,
        }
    )


def raster(pdf: bytes) -> Image.Image:
    page = pypdfium2.PdfDocument(pdf)[0]
    return page.render(scale=1).to_pil().convert("RGB")


def has_colour(image: Image.Image, colour: tuple[int, int, int], box=None, tolerance=12) -> bool:
    region = image.crop(box) if box else image
    return any(
        all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))
        for pixel in region.get_flattened_data()
    )


def logo_box(image: Image.Image) -> tuple[int, int, int, int]:
    """Where the default template draws the logo: centred, above the academy's name."""
    width, height = image.size
    return (int(width * 0.4), int(height * 0.03), int(width * 0.6), int(height * 0.16))


# The logo -------------------------------------------------------------------------------------


def test_the_default_logo_is_a_plain_drawing():
    logo = rendering.package_default() / "logo.svg"
    data = logo.read_bytes()
    assert check_svg(data).ok
    assert b"<text" not in data  # no font to depend on


def test_the_default_template_draws_the_logo(tmp_path):
    app = make_app(tmp_path, [])
    with app.app_context():
        assert rendering.logo(rendering.template_folder("default")) == "logo.svg"
        pdf = services.preview("default")
    image = raster(pdf)
    assert has_colour(image, GOLD, logo_box(image))

    # The same template without its logo draws none there: the gold came from the logo.
    plain = tmp_path / "plantillas/default"
    shutil.copytree(rendering.package_default(), plain)
    (plain / "logo.svg").unlink()
    with app.app_context():
        assert rendering.logo(rendering.template_folder("default")) is None
        pdf = services.preview("default")
    image = raster(pdf)
    assert not has_colour(image, GOLD, logo_box(image))


def test_a_template_folder_carries_its_own_png_logo(tmp_path):
    app = make_app(tmp_path, [])
    folder = tmp_path / "plantillas/municipal"
    shutil.copytree(rendering.package_default(), folder)
    (folder / "logo.svg").unlink()
    (folder / "logo.png").write_bytes(png((300, 300), (0x10, 0xA0, 0x30)))
    with app.app_context():
        assert rendering.logo(folder) == "logo.png"
        pdf = services.preview("municipal")
    images = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    assert [image.image.size for image in images] == [(300, 300)]


# Signature images -----------------------------------------------------------------------------


def test_a_signatory_with_a_png_signature_shows_it(tmp_path):
    (tmp_path / "instance/firmas").mkdir(parents=True)
    (tmp_path / "instance/firmas/rosa.png").write_bytes(png())
    app = make_app(
        tmp_path,
        [
            {"name": "Rosa Aravena", "position": "Directora", "signature": "firmas/rosa.png"},
            {"name": "Pedro Pérez", "position": "Jefe académico"},
        ],
    )
    with app.app_context():
        firmantes = services.signatories()
        pdf = services.preview("default")
    assert firmantes[0]["firma"].startswith("data:image/png;base64,")
    assert firmantes[1]["firma"] is None
    images = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    assert [image.image.size for image in images] == [(240, 80)]
    assert "Rosa Aravena" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_a_signatory_with_an_svg_signature_shows_it_above_the_name(tmp_path):
    signature = tmp_path / "rosa.svg"
    signature.write_text(SIGNATURE_SVG, "utf-8")
    app = make_app(
        tmp_path,
        [{"name": "Rosa Aravena", "position": "Directora", "signature": str(signature)}],
    )
    with app.app_context():
        pdf = services.preview("default")
    image = raster(pdf)
    width, height = image.size
    # In the footer's signature column, left of the QR code.
    assert has_colour(image, INK, (0, int(height * 0.7), int(width * 0.6), height))

    app = make_app(tmp_path, [{"name": "Rosa Aravena", "position": "Directora"}])
    with app.app_context():
        pdf = services.preview("default")
    assert not has_colour(raster(pdf), INK)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("falta.png", None, "does not exist"),
        ("firma.jpg", png(), "must be a .png or .svg"),
        ("firma.png", b"\x89PNG\r\n\x1a\nnot really", "not a valid PNG"),
        ("firma.png", b"GIF89a" + b"\0" * 40, "not a valid PNG"),
        (
            "firma.svg",
            '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "not a usable SVG",
        ),
        ("firma.svg", "<svg", "not a usable SVG"),
    ],
)
def test_a_missing_or_invalid_signature_is_refused_at_start(tmp_path, name, content, message):
    instance = tmp_path / "instance"
    instance.mkdir()
    if isinstance(content, str):
        (instance / name).write_text(content, "utf-8")
    elif content is not None:
        (instance / name).write_bytes(content)
    with pytest.raises(ConfigError, match="CERTIFICATE_SIGNATORIES") as caught:
        make_app(tmp_path, [{"name": "Rosa", "position": "Directora", "signature": name}])
    assert message in str(caught.value)
    assert "'Rosa'" in str(caught.value)


def test_a_gif_named_png_is_not_a_png(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    out = io.BytesIO()
    Image.new("RGB", (20, 10)).save(out, "GIF")
    (instance / "firma.png").write_bytes(out.getvalue())
    with pytest.raises(ConfigError, match="not a PNG"):
        make_app(tmp_path, [{"name": "Rosa", "position": "Directora", "signature": "firma.png"}])


def test_the_signature_file_itself_is_still_outside_every_template(tmp_path):
    """The image reaches the page as data, never by opening its path: a template that names
    the file (or another folder's logo) is refused as before."""
    signature = tmp_path / "instance/rosa.png"
    signature.parent.mkdir()
    signature.write_bytes(png())
    app = make_app(
        tmp_path, [{"name": "Rosa", "position": "Directora", "signature": str(signature)}]
    )
    shutil.copytree(rendering.package_default(), tmp_path / "plantillas/otra")
    for reference in (signature.as_uri(), "../otra/logo.svg"):
        folder = tmp_path / "plantillas/prueba"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        (folder / "certificate.html").write_text(
            f'<img src="{reference}"><p>{{{{ nombre }}}}</p>', "utf-8"
        )
        with app.app_context(), pytest.raises(rendering.CertificateTemplateError) as caught:
            services.preview("prueba")
        assert "no está en su carpeta" in str(caught.value)
