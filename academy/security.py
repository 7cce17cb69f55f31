"""Response headers and proxy trust, set in one place for every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline script or style anywhere: every page's CSS and JS are files under /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Course images, SVG drawings among them: opened directly, an SVG is a document, so it gets a
# policy of its own under which nothing runs or loads (its inline styles still apply).
IMAGE_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def image_headers(response: Response) -> Response:
    """Headers for a course image, whatever its type: shown as an image and nothing else."""
    response.headers["Content-Security-Policy"] = IMAGE_CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def opened_as_page() -> bool:
    """Whether this GET is the user opening the page (not an image, script or fetch that some
    other page made the browser request).

    The few GET pages that note something (a lesson as visited, a review as read) note it only
    then: an ``<img src>`` pointing at them must change nothing. Browsers without
    ``Sec-Fetch-Dest`` are trusted; the course's own content cannot point images at pages.
    """
    return request.headers.get("Sec-Fetch-Dest", "document") in ("document", "iframe")


def init_app(app: Flask) -> None:
    proxies = int(app.config["PROXY_COUNT"])
    if proxies:
        # X-Forwarded-Host only when asked: a proxy that passes the client's header on would
        # let anyone choose the host this app believes it serves. TRUSTED_HOSTS checks it too.
        hosts = proxies if app.config["PROXY_FORWARDS_HOST"] else 0
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=hosts
        )
    https = bool(app.config["HTTPS"])

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative trick."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
