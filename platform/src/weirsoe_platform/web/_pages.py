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
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from ..errors import error_responses
from ..security import Guard
from ..sessions import SessionNotFound, SessionService

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


def _file(path: Path, *, cache: str = "no-cache") -> Response[bytes]:
    media = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return Response(
        path.read_bytes(),
        media_type=media or "application/octet-stream",
        headers={**SECURITY_HEADERS, "Cache-Control": cache},
    )


def _page(name: str) -> Response[bytes]:
    return _file(STATIC_DIR / name, cache="no-store")


@get("/", include_in_schema=False)
async def landing_page() -> Response[bytes]:
    """Join a room: code and name (``?code=ABCD`` prefills the code; join links point here)."""
    return _page("index.html")


@get("/host", include_in_schema=False)
async def host_page() -> Response[bytes]:
    """The host's big screen: pick a game, then show the code, QR, players and the game."""
    return _page("host.html")


@get("/play/{code:str}", include_in_schema=False)
async def play_page(code: FromPath[str]) -> Response[bytes]:
    """The phone controller for one room."""
    return _page("play.html")


@get("/login", include_in_schema=False)
async def login_page() -> Response[bytes]:
    return _page("login.html")


@get("/presets", include_in_schema=False)
async def presets_page() -> Response[bytes]:
    return _page("presets.html")


@get("/static/{file:path}", include_in_schema=False)
async def static_file(file: FromPath[str]) -> Response[bytes]:
    path = safe_file(STATIC_DIR, file)
    if path is None:
        raise NotFoundException(f"no static file {file.lstrip('/')!r}"[:200])
    return _file(path)


@get("/cartridges/{slug:str}/ui/{file:path}", include_in_schema=False)
async def cartridge_ui(
    slug: FromPath[str], file: FromPath[str], service: NamedDependency[SessionService]
) -> Response[bytes]:
    """A file from a cartridge's ``ui_dir`` (its ``host.js``, ``controller.js`` and their
    imports)."""
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
    """The room's join link as a QR code (SVG). 404 for an unknown room; like every lookup by
    code, repeated unknown codes from one address get 429."""
    address = request.client.host if request.client else "unknown"
    await guard.check_lookup(address)
    try:
        info = await service.info(code)
    except SessionNotFound:
        await guard.unknown_code(address)
        raise
    base = (service.settings.public_url or str(request.base_url)).rstrip("/")
    url = f"{base}/?code={info['code']}"
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out,
        kind="svg",
        scale=8,
        border=2,
        dark="#111111",
        light="#ffffff",
        omitsize=True,
        title=f"Join room {info['code']}",
    )
    return Response(
        out.getvalue(),
        media_type="image/svg+xml",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
    )


PAGES = [
    landing_page,
    host_page,
    play_page,
    login_page,
    presets_page,
    static_file,
    cartridge_ui,
    join_qr,
]
