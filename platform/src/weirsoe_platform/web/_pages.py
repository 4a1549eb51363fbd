"""The browser shell: pages, static assets, each cartridge's UI modules and the room's QR code.

Everything here is plain files served as they are (no templates, no build step). Every
response carries the same strict headers: scripts, styles and connections from this origin
only, and no inline script at all, so a name that looks like markup can never run.
"""

from __future__ import annotations

import io
import mimetypes
from pathlib import Path
from typing import Any

import segno
from litestar import Request, Response, get, head
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from ..errors import error_responses
from ..security import Guard, client_address
from ..sessions import SessionNotFound, SessionService
from ._static import static_router

__all__ = ["PAGES", "SECURITY_HEADERS", "STATIC_DIR", "safe_file"]

STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

# Only these kinds of files are served; anything else is "not found", whatever is on disk.
# (Litestar adds "; charset=utf-8" to text types itself.)
_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain",
}


def safe_file(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is a servable file inside ``root``; None for anything else
    (``..``, absolute paths, hidden files, symlinks out of the folder, unknown types)."""
    parts = [p for p in relative.replace("\\", "/").split("/") if p]
    if not parts or any(p in (".", "..") or p.startswith(".") or "\x00" in p for p in parts):
        return None
    try:
        base = root.resolve(strict=True)
        path = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(base) or not path.is_file() or path.suffix.lower() not in _TYPES:
        return None
    return path


def _file(path: Path, *, cache: str = "no-cache") -> File:
    """A file streamed by Litestar (ETag, content length; HEAD without a body)."""
    media = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return File(
        path,
        media_type=media or "application/octet-stream",
        headers={**SECURITY_HEADERS, "Cache-Control": cache},
        content_disposition_type="inline",
    )


def _page(name: str) -> File:
    return _file(STATIC_DIR / name, cache="no-cache")


def _pages(path: str, name: str, doc: str) -> list[Any]:
    """GET and HEAD handlers for one page file."""

    async def page() -> File:
        return _page(name)

    page.__doc__ = doc
    slug = name.removesuffix(".html")
    return [
        get(path, include_in_schema=False, name=f"page-{slug}")(page),
        head(path, include_in_schema=False, name=f"page-{slug}-head")(page),
    ]


async def _play(code: FromPath[str]) -> File:
    """The phone controller for one room."""
    return _page("play.html")


async def _watch(code: FromPath[str]) -> File:
    """The audience page for one room."""
    return _page("watch.html")


_PAGE_ROUTES = [
    *_pages("/", "index.html", "Join a room: code and name (``?code=ABCD`` prefills the code)."),
    *_pages("/host", "host.html", "The host's big screen: a game, then code, QR, players, game."),
    *_pages("/watch", "watch.html", "The audience page: watch a room and vote, without a seat."),
    *_pages("/login", "login.html", "Host sign-in."),
    *_pages("/presets", "presets.html", "A host's presets."),
    get("/play/{code:str}", include_in_schema=False, name="page-play")(_play),
    head("/play/{code:str}", include_in_schema=False, name="page-play-head")(_play),
    get("/watch/{code:str}", include_in_schema=False, name="page-watch-room")(_watch),
    head("/watch/{code:str}", include_in_schema=False, name="page-watch-room-head")(_watch),
]


async def _cartridge_file(
    slug: FromPath[str], file: FromPath[str], service: NamedDependency[SessionService]
) -> File:
    """A file from a cartridge's ``ui_dir`` (its ``host.js``, ``controller.js`` and their
    imports), GET or HEAD."""
    cartridge = service.cartridges.cartridges.get(slug)
    if cartridge is None:
        raise NotFoundException(f"no cartridge {slug!r}"[:200])
    if cartridge.ui_dir is None:
        raise NotFoundException(f"cartridge {slug!r} has no UI")
    path = safe_file(Path(cartridge.ui_dir), file)
    if path is None:
        raise NotFoundException(f"no file {file.lstrip('/')!r} in the UI of {slug!r}"[:200])
    return _file(path)


@get(
    "/api/sessions/{code:str}/qr.svg",
    tags=["lobby"],
    responses=error_responses(404, 429, 503),
    media_type="image/svg+xml",
)
async def join_qr(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    service: NamedDependency[SessionService],
    guard: NamedDependency[Guard],
) -> Response[bytes]:
    """The room's join link as a QR code (SVG); with ``?for=watch``, the audience page's link.
    404 for an unknown room; like every lookup by code, repeated unknown codes from one address
    get 429."""
    address = client_address(request)
    await guard.check_lookup(address)
    try:
        info = await service.info(code)
    except SessionNotFound:
        await guard.unknown_code(address)
        raise
    base = (service.settings.public_url or str(request.base_url)).rstrip("/")
    watch = request.query_params.get("for") == "watch"
    url = f"{base}/watch/{info['code']}" if watch else f"{base}/?code={info['code']}"
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out,
        kind="svg",
        scale=8,
        border=2,
        dark="#111111",
        light="#ffffff",
        omitsize=True,
        title=f"{'Watch' if watch else 'Join'} room {info['code']}",
    )
    return Response(
        out.getvalue(),
        media_type="image/svg+xml",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
    )


_UI = "/cartridges/{slug:str}/ui/{file:path}"
PAGES = [
    *_PAGE_ROUTES,
    static_router(STATIC_DIR, SECURITY_HEADERS),
    get(_UI, include_in_schema=False, name="cartridge-ui")(_cartridge_file),
    head(_UI, include_in_schema=False, name="cartridge-ui-head")(_cartridge_file),
    join_qr,
]
