"""deploy/Dockerfile and .dockerignore, read statically (no Docker here): a slim multi-stage build,
a non-root final stage with no build tools, every copied file present in the build context, and
every data file the services read shipped in the installed packages."""

import os
import tomllib
from pathlib import Path

import pytest

from tests.deploy.artefacts import (
    DOCKERFILE,
    ENTRYPOINT,
    REPO,
    Instruction,
    copies,
    destination_of,
    dockerignore_rules,
    files_under,
    parse_dockerfile,
    sent_to_builder,
)

BASE_IMAGE = "python:3.11-slim"
IMAGE_USER = "10001:10001"
BUILD_TOOLS = ("gcc", "g++", "build-essential", "make ", "libpq-dev", "python3-dev", "apt-get")


def _dockerfile():  # type: ignore[no-untyped-def]
    return parse_dockerfile(DOCKERFILE.read_text())


def _installed_projects() -> list[Path]:
    """The project folders the build stage installs (`pip install ... ./shared/schemas ...`)."""
    runs = [
        i for i in _dockerfile().of_stage(0) if i.keyword == "RUN" and "pip install" in i.arguments
    ]
    assert len(runs) == 1
    return [REPO / word for word in runs[0].words() if word.startswith("./")]


def test_every_stage_builds_on_python_slim() -> None:
    dockerfile = _dockerfile()
    assert dockerfile.stages == 2
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            assert instruction.words()[0] == BASE_IMAGE


def test_final_stage_runs_as_a_non_root_user() -> None:
    users = [i.arguments for i in _dockerfile().final_stage() if i.keyword == "USER"]
    assert users == [IMAGE_USER]
    uid = IMAGE_USER.split(":")[0]
    assert uid not in ("0", "root")
    created = [
        i for i in _dockerfile().final_stage() if i.keyword == "RUN" and "useradd" in i.arguments
    ]
    assert created and f"--uid {uid}" in created[0].arguments


def test_final_stage_has_no_build_tools_and_copies_only_what_it_runs() -> None:
    final = _dockerfile().final_stage()
    for instruction in final:
        if instruction.keyword == "RUN":
            assert not any(tool in instruction.arguments for tool in BUILD_TOOLS), instruction
    sources = {s for c in copies(final) if c.from_stage is None for s in c.sources}
    assert sources == {"alembic.ini", "migrations", "deploy/entrypoint.sh"}
    built = [c for c in copies(final) if c.from_stage is not None]
    assert [(c.from_stage, c.sources, c.destination) for c in built] == [
        ("build", ["/opt/signpost"], "/opt/signpost")
    ]


def test_packages_are_installed_from_the_repository_not_in_editable_mode() -> None:
    (run,) = [
        i for i in _dockerfile().of_stage(0) if i.keyword == "RUN" and "pip install" in i.arguments
    ]
    assert "--constraint constraints.txt" in run.arguments
    assert " -e " not in f" {run.arguments} " and "--editable" not in run.arguments
    every_project = {p.parent for p in REPO.glob("shared/*/pyproject.toml")} | {
        p.parent for p in REPO.glob("services/*/pyproject.toml")
    }
    assert set(_installed_projects()) == every_project


def test_entrypoint_is_deploy_entrypoint_sh_at_the_path_the_image_copies_it_to() -> None:
    final = _dockerfile().final_stage()
    (entrypoint,) = [i.words() for i in final if i.keyword == "ENTRYPOINT"]
    (copy,) = [c for c in copies(final) if c.sources == ["deploy/entrypoint.sh"]]
    assert (
        entrypoint
        == [destination_of(copy, "deploy/entrypoint.sh")]
        == ["/app/deploy/entrypoint.sh"]
    )
    (cmd,) = [i.words() for i in final if i.keyword == "CMD"]
    assert cmd == ["referral", "serve"]
    assert os.access(ENTRYPOINT, os.X_OK)


def test_alembic_ini_and_migrations_sit_where_the_entrypoint_runs_alembic() -> None:
    final = _dockerfile().final_stage()
    landed = {
        s: destination_of(c, s) for c in copies(final) if c.from_stage is None for s in c.sources
    }
    # entrypoint.sh changes to its own folder's parent before running alembic.
    app_root = str(Path(landed["deploy/entrypoint.sh"]).parent.parent)
    assert landed["alembic.ini"] == f"{app_root}/alembic.ini"
    assert landed["migrations"] == f"{app_root}/migrations"
    workdirs = [i.arguments for i in final if i.keyword == "WORKDIR"]
    assert workdirs == [app_root]


def _copied_sources() -> list[str]:
    return [
        source
        for copy in copies(_dockerfile().instructions)
        if copy.from_stage is None
        for source in copy.sources
    ]


@pytest.mark.parametrize("source", _copied_sources())
def test_every_copied_file_exists_and_is_sent_to_the_builder(source: str) -> None:
    path = REPO / source
    assert path.exists()
    rules = dockerignore_rules()
    missing = [
        str(file.relative_to(REPO))
        for file in files_under(path)
        if not sent_to_builder(str(file.relative_to(REPO)), rules)
    ]
    assert missing == []


def test_dockerignore_keeps_everything_else_out_of_the_build_context() -> None:
    rules = dockerignore_rules()
    for path in (
        ".git/config",
        ".venv/bin/python",
        "var/referral.db",
        "tests/conftest.py",
        "docs/deploy.md",
        "bench/common.py",
        "deploy/compose.yaml",
        "services/referral-api/src/referral_api/__pycache__/main.cpython-311.pyc",
        "services/referral-api/src/signpost_referral_api.egg-info/PKG-INFO",
    ):
        assert not sent_to_builder(path, rules), path
    assert sent_to_builder("services/referral-api/src/referral_api/main.py", rules)


@pytest.mark.parametrize("project", _installed_projects(), ids=lambda p: p.name)
def test_every_data_file_of_a_package_is_declared_package_data(project: Path) -> None:
    """The image installs the packages from source (not editable), so a file the code reads at
    run time is there only if pyproject.toml declares it as package data."""
    setuptools = (
        tomllib.loads((project / "pyproject.toml").read_text())
        .get("tool", {})
        .get("setuptools", {})
    )
    declared = setuptools.get("package-data", {})
    undeclared = []
    for package_dir in (project / "src").iterdir():
        if not (package_dir / "__init__.py").is_file():
            continue
        patterns = declared.get(package_dir.name, []) + declared.get("*", [])
        shipped = {p for pattern in patterns for p in package_dir.glob(pattern) if p.is_file()}
        undeclared += [
            str(file.relative_to(REPO))
            for file in files_under(package_dir)
            if file.suffix not in (".py", ".pyc") and file not in shipped
        ]
    assert undeclared == []


def test_dockerfile_parser_joins_continuations_and_tracks_stages() -> None:
    parsed = parse_dockerfile(
        "FROM a AS one\n# note\nRUN x \\\n    && y\nFROM b\nCOPY --from=one /x /y\n"
    )
    assert parsed.instructions == [
        Instruction("FROM", "a AS one", 0),
        Instruction("RUN", "x  && y", 0),
        Instruction("FROM", "b", 1),
        Instruction("COPY", "--from=one /x /y", 1),
    ]
