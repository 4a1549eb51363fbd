"""Publishable metadata, read from the source tree: a LICENSE in every distribution, one
version source each, the SDK pinned with bounds, the extras. (Building and ``twine check``
are in test_wheels.py.)"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from weirsoe_platform.scaffold import create_cartridge, sdk_requirement

ROOT = Path(__file__).resolve().parents[1]
# folder -> import name
DISTRIBUTIONS = {
    "cartridges/sdk": "weirsoe_sdk",
    "cartridges/weirsoe_lies": "weirsoe_lies",
    "platform": "weirsoe_platform",
    "tests/cartridges/rps": "weirsoe_test_rps",
}


def _project(folder: str) -> dict[str, object]:
    data = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())
    return data


@pytest.mark.parametrize("folder", DISTRIBUTIONS)
def test_every_distribution_ships_the_license(folder: str) -> None:
    assert (ROOT / folder / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()
    project = _project(folder)["project"]
    assert isinstance(project, dict)
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]


@pytest.mark.parametrize(("folder", "module"), DISTRIBUTIONS.items())
def test_one_version_source_per_distribution(folder: str, module: str) -> None:
    data = _project(folder)
    project = data["project"]
    assert isinstance(project, dict)
    assert "version" not in project, "the version lives in __init__.py only"
    assert project["dynamic"] == ["version"]
    tool = data["tool"]
    assert isinstance(tool, dict)
    path = tool["hatch"]["version"]["path"]
    assert path == f"src/{module}/__init__.py"
    literal = re.search(r'^__version__ = "([^"]+)"$', (ROOT / folder / path).read_text(), re.M)
    assert literal is not None
    installed = importlib.import_module(module).__version__
    assert literal.group(1) == installed == importlib.metadata.version(project["name"])


@pytest.mark.parametrize("folder", [f for f in DISTRIBUTIONS if f != "cartridges/sdk"])
def test_sdk_is_pinned_with_bounds(folder: str) -> None:
    project = _project(folder)["project"]
    assert isinstance(project, dict)
    pins = [Requirement(r) for r in project["dependencies"] if r.startswith("weirsoe-sdk")]
    assert len(pins) == 1
    _assert_bounded(pins[0].specifier)


def test_the_scaffold_pins_the_installed_sdk_with_bounds(tmp_path: Path) -> None:
    assert sdk_requirement("0.1.0") == "weirsoe-sdk>=0.1,<0.2"
    assert sdk_requirement("0.3.7") == "weirsoe-sdk>=0.3,<0.4"
    assert sdk_requirement("1.2.0") == "weirsoe-sdk>=1.2,<2"
    package = create_cartridge("pin_check", tmp_path)
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    (pin,) = (Requirement(r) for r in project["dependencies"])
    assert pin.name == "weirsoe-sdk"
    _assert_bounded(pin.specifier)
    assert not any(c.startswith("Framework :: Weirsoe") for c in project["classifiers"])
    assert project["license"] == "MIT"
    assert (package / "LICENSE").is_file()


def _assert_bounded(spec: SpecifierSet) -> None:
    operators = {s.operator for s in spec}
    assert ">=" in operators, spec
    assert "<" in operators, spec
    assert spec.contains(importlib.metadata.version("weirsoe-sdk")), spec


def test_redis_and_postgres_are_extras_not_defaults() -> None:
    project = _project("platform")["project"]
    assert isinstance(project, dict)
    defaults = {Requirement(r).name for r in project["dependencies"]}
    assert not defaults & {"redis", "taskiq-redis", "asyncpg"}
    extras = {
        name: {Requirement(r).name for r in reqs}
        for name, reqs in project["optional-dependencies"].items()
    }
    assert extras == {"redis": {"redis", "taskiq-redis"}, "postgres": {"asyncpg"}}


@pytest.mark.parametrize("folder", ["cartridges/sdk", "cartridges/weirsoe_lies", "platform"])
def test_published_distributions_have_urls_and_classifiers(folder: str) -> None:
    project = _project(folder)["project"]
    assert isinstance(project, dict)
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert "Programming Language :: Python :: 3 :: Only" in project["classifiers"]
    assert any(c.startswith("Development Status ::") for c in project["classifiers"])


def test_the_test_command_does_not_install_benchmark_tools() -> None:
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    names = {name: {Requirement(r).name for r in reqs} for name, reqs in groups.items()}
    assert {"matplotlib", "uvloop", "wsproto"} <= names["bench"]
    assert not names["dev"] & {"matplotlib", "uvloop", "wsproto"}
    noxfile = (ROOT / "noxfile.py").read_text()
    assert '"--group",\n            "bench",' in noxfile  # nox -s bench adds the group
