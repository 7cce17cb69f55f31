"""The tools ``make test`` runs look at what they should: ruff lints every module of the
package (its excludes name the content folders at the root, not ``academy/courses``), and
every Python package installed is pinned in ``requirements/constraints.txt``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_lints_every_module_of_the_package() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--show-files", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    linted = {Path(line.strip()).resolve() for line in listed.splitlines() if line.strip()}
    modules = {path.resolve() for path in (ROOT / "academy").rglob("*.py")}
    missed = sorted(str(path.relative_to(ROOT)) for path in modules - linted)
    assert not missed, f"ruff skips {len(missed)} modules, e.g. {missed[:5]}"
    assert any("academy/courses/" in str(path) for path in linted)
    assert any("academy/quizzes/" in str(path) for path in linted)


def pins() -> dict[str, Version]:
    pinned: dict[str, Version] = {}
    for line in (ROOT / "requirements/constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"not an exact pin: {line}"
            pinned[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pinned


def test_every_requirement_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = pins()
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in requirements/constraints.txt"
        assert requirement.specifier.contains(pinned[name]), (
            f"{requirement.name} is pinned at {pinned[name]}, outside {requirement.specifier}"
        )
    # ruff decides whether make test passes: only an edit here may change its version.
    assert any(line.startswith("ruff==") for line in project["optional-dependencies"]["test"])


def test_what_is_installed_is_what_is_pinned() -> None:
    """scripts/bootstrap installs the constraints: a stale .venv fails here, not later."""
    wrong = {
        name: (str(version), metadata.version(name))
        for name, version in pins().items()
        if Version(metadata.version(name)) != version
    }
    assert not wrong, f"installed versions differ from the pins (pinned, installed): {wrong}"
