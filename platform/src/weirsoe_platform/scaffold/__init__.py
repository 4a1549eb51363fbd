"""``weirsoe new-cartridge``: a working, tested cartridge package from a template."""

from __future__ import annotations

import importlib.metadata
import keyword
import re
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

__all__ = ["ScaffoldError", "create_cartridge", "names_for", "sdk_requirement"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_TAKEN = {"platform", "weirsoe", "weirsoe_sdk", "weirsoe_platform", "weirsoe_lies", "test", "tests"}


class ScaffoldError(ValueError):
    """A bad name or an existing folder; nothing was written."""


def sdk_requirement(version: str | None = None) -> str:
    """``weirsoe-sdk`` bounded to the installed SDK's release series: ``>=0.1,<0.2`` while the
    SDK is 0.x (where a minor release may change the contract), ``>=1.2,<2`` from 1.0 on."""
    version = version or importlib.metadata.version("weirsoe-sdk")
    major, minor = (int(part) for part in version.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"weirsoe-sdk>={major}.{minor},<{upper}"


def names_for(name: str, title: str | None = None) -> dict[str, str]:
    """The placeholders of the template for a cartridge called ``name``."""
    if not _NAME.match(name) or name.endswith("_") or "__" in name:
        raise ScaffoldError(
            f"{name!r} is not a valid cartridge name: use 2-40 lower-case letters, digits and "
            "single underscores, starting with a letter (it becomes a Python package and the slug)"
        )
    if keyword.iskeyword(name) or name in sys.stdlib_module_names or name in _TAKEN:
        raise ScaffoldError(f"{name!r} would shadow an existing module; pick another name")
    return {
        "__slug__": name,
        "__dist__": "weirsoe-" + name.replace("_", "-"),
        "__class__": "".join(part.capitalize() for part in name.split("_")),
        "__title__": title or " ".join(part.capitalize() for part in name.split("_")),
        "__sdk_requirement__": sdk_requirement(),
    }


def _render(text: str, names: dict[str, str]) -> str:
    for placeholder, value in names.items():
        text = text.replace(placeholder, value)
    return text


def create_cartridge(name: str, directory: Path, *, title: str | None = None) -> Path:
    """Write the package to ``directory / name``. Refuses (and writes nothing) if it exists."""
    names = names_for(name, title)
    directory = Path(directory)
    target = directory / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists; nothing was written")
    if not directory.is_dir():
        raise ScaffoldError(f"{directory} is not a folder")
    template = resources.files("weirsoe_platform.scaffold").joinpath("template")
    # Build in a temporary folder next to the target, then move it into place in one step.
    with tempfile.TemporaryDirectory(dir=directory, prefix=f".{name}-") as tmp:
        staging = Path(tmp) / name
        with resources.as_file(template) as source:
            for path in sorted(Path(source).rglob("*.tmpl")):
                relative = _render(str(path.relative_to(source)), names).removesuffix(".tmpl")
                out = staging / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(_render(path.read_text("utf-8"), names), "utf-8")
        if target.exists():  # created meanwhile by someone else: still overwrite nothing
            raise ScaffoldError(f"{target} already exists; nothing was written")
        shutil.move(str(staging), str(target))
    return target
