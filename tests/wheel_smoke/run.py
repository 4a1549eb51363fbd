"""The wheel leg: build every distribution, install the wheels into a clean virtual environment
with plain pip (no uv workspace, no editable installs) and run the smoke suite, first without
and then with the ``[redis]`` extra.

    python tests/wheel_smoke/run.py [--out DIR] [--legs lean,redis] [--redis URL]

Standard library only, so tox, nox and the test suite (tests/test_wheels.py) can all run it.
Dependencies come from PyPI; our four distributions only from the wheels built here. The
sdists and wheels also pass ``twine check --strict``, and the SDK's own tests run from its sdist.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PUBLISHED = ["cartridges/sdk", "cartridges/weirsoe_lies", "cartridges/weirsoe_quips", "platform"]
TOOLS = ["pytest>=8", "httpx>=0.27", "websockets>=13", "build>=1.2", "twine>=6.1"]


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[wheels] {time.monotonic() - STARTED:6.1f}s {message}", flush=True)


def run(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> int:
    log("$ " + " ".join(cmd))
    done = subprocess.run(cmd, cwd=cwd, env=env, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"[wheels] failed ({done.returncode}): {' '.join(cmd)}")
    return done.returncode


def clean_env() -> dict[str, str]:
    """The environment without anything that points at the workspace."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "PYTHONSTARTUP"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def build(out: Path) -> dict[str, list[Path]]:
    """sdist and wheel of every published distribution (the wheel built from the sdist)."""
    out.mkdir(parents=True, exist_ok=True)
    for folder in PUBLISHED:
        run([*uv(), "build", "--quiet", "--out-dir", str(out), str(ROOT / folder)])
    built: dict[str, list[Path]] = {}
    for path in sorted(out.glob("weirsoe_*")):
        built.setdefault(path.name.split("-")[0], []).append(path)
    assert set(built) == {"weirsoe_sdk", "weirsoe_lies", "weirsoe_quips", "weirsoe_platform"}, built
    return built


def make_venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    python = where / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", *TOOLS], env=clean_env())
    return python


def wheel(built: dict[str, list[Path]], name: str) -> Path:
    return next(p for p in built[name] if p.suffix == ".whl")


def install(python: Path, built: dict[str, list[Path]], *, extra: str | None) -> None:
    platform = str(wheel(built, "weirsoe_platform"))
    if extra:
        platform = f"weirsoe-platform[{extra}] @ {Path(platform).as_uri()}"
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            str(wheel(built, "weirsoe_sdk")),
            str(wheel(built, "weirsoe_lies")),
            str(wheel(built, "weirsoe_quips")),
            platform,
        ],
        env=clean_env(),
    )


def smoke(python: Path, work: Path, leg: str, redis_url: str) -> bool:
    """The smoke suite, copied next to the test helpers into a folder of its own, so no
    conftest, pytest configuration or source folder of the workspace is in sight."""
    suite = work / f"smoke-{leg}"
    suite.mkdir()
    shutil.copy(HERE / "smoke_suite.py", suite / "test_smoke.py")
    shutil.copy(ROOT / "tests" / "_live.py", suite / "_live.py")
    (suite / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {**clean_env(), "WEIRSOE_SMOKE_LEG": leg, "WEIRSOE_SMOKE_REDIS": redis_url}
    env.update({"WEIRSOE_JOIN_RATE": "100000", "WEIRSOE_UNKNOWN_CODE_RATE": "100000"})
    code = run(
        [str(python), "-m", "pytest", "-q", "-ra", "test_smoke.py"], cwd=suite, env=env, check=False
    )
    log(f"leg {leg}: {'passed' if code == 0 else 'FAILED'}")
    return code == 0


def twine_check(python: Path, built: dict[str, list[Path]]) -> None:
    files = [str(p) for paths in built.values() for p in paths]
    run([str(python), "-m", "twine", "check", "--strict", *files], env=clean_env())


def sdk_tests_from_sdist(python: Path, built: dict[str, list[Path]], work: Path) -> None:
    """Unpack the SDK's sdist and run its tests there, as its README says."""
    sdist = next(p for p in built["weirsoe_sdk"] if p.name.endswith(".tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(work / "sdk-sdist", filter="data")
    (unpacked,) = (work / "sdk-sdist").iterdir()
    pip = [str(python), "-m", "pip"]
    run([*pip, "install", "--quiet", f"{unpacked}[test]", str(unpacked / "tests" / "rps")])
    try:
        run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=unpacked)
    finally:
        # The smoke legs then install the SDK from its wheel, into a venv without the test
        # cartridge.
        run([*pip, "uninstall", "--yes", "--quiet", "weirsoe-test-rps", "weirsoe-sdk"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--legs", default="lean,redis", help="lean, redis or both (default)")
    parser.add_argument(
        "--redis",
        default=os.environ.get("WEIRSOE_TEST_REDIS", "redis://127.0.0.1:6379/0"),
        help="Redis for the [redis] leg (default WEIRSOE_TEST_REDIS or 127.0.0.1:6379)",
    )
    args = parser.parse_args(argv)
    legs = [leg.strip() for leg in args.legs.split(",") if leg.strip()]
    results: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="weirsoe-wheels-") as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        built = build(work / "dist")
        python = make_venv(work / "venv")
        twine_check(python, built)
        sdk_tests_from_sdist(python, built, work)
        # Each leg runs even if the one before failed, so a report covers both.
        if "lean" in legs:
            install(python, built, extra=None)
            results["lean"] = smoke(python, work, "lean", args.redis)
        if "redis" in legs:
            install(python, built, extra="redis")
            results["redis"] = smoke(python, work, "redis", args.redis)
    passed = [leg for leg, ok in results.items() if ok]
    failed = [leg for leg, ok in results.items() if not ok]
    log(f"passed: {', '.join(passed) or 'none'}; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
