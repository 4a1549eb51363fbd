"""Where the SDK's tests find the documentation they check: beside them in an unpacked sdist
(``docs/``, shipped by ``[tool.hatch.build.targets.sdist.force-include]``), else in the
repository's ``docs/``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DOCS"]

_HERE = Path(__file__).resolve().parent
DOCS = next(
    d for d in (_HERE.parent / "docs", _HERE.parents[2] / "docs") if (d / "cartridges").is_dir()
)
