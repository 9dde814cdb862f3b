"""Reading the deployment artefacts in deploy/: Kubernetes manifests, compose files, the
Dockerfile and .dockerignore, and what each service expects of them."""

import json
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from directory_api.config import DirectorySettings
from referral_api.config import ReferralSettings
from screening_api.config import ScreeningSettings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
RUNBOOK = REPO / "docs" / "deploy.md"
COMPOSE_FILES = (DEPLOY / "compose.yaml", DEPLOY / "compose.jwt.yaml")
COMPOSE_SCHEMA = Path(__file__).with_name("schemas") / "compose-spec.json"

# Kubernetes versions the manifests must be valid for: the oldest still in managed-cluster
# support and the newest the schema package knows.
KUBERNETES_VERSIONS = ("1.30", "1.37")


@dataclass(frozen=True)
class ServiceSpec:
    """One service as the deployment sees it."""

    name: str
    port: int
    settings_class: type[BaseSettings]

    @property
    def prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def app(self) -> str:
        return f"{self.name}-api"


SERVICES = (
    ServiceSpec("referral", 8001, ReferralSettings),
    ServiceSpec("directory", 8002, DirectorySettings),
    ServiceSpec("screening", 8003, ScreeningSettings),
)

# Variables read by the process rather than by a service's settings class, and who reads them.
PROCESS_VARIABLES = {
    "WEB_CONCURRENCY": "deploy/entrypoint.sh: uvicorn worker processes per pod",
    "FORWARDED_ALLOW_IPS": "uvicorn: proxies whose X-Forwarded-* headers are trusted",
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client: per-worker metric files",
    "SIGNPOST_PORT": "deploy/entrypoint.sh: listening port override",
    "SIGNPOST_HOST": "deploy/entrypoint.sh: listening address override",
}
PROCESS_VARIABLE_PREFIXES = ("OTEL_",)  # OpenTelemetry SDK configuration


def service_for(name: str) -> ServiceSpec:
    """The service a manifest or compose service name belongs to (`referral-api`, `referral`,
    `referral-migrate`, `referral-expire-held`)."""
    for service in SERVICES:
        if name == service.name or name.startswith(f"{service.name}-"):
            return service
    raise KeyError(name)


# --- Kubernetes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object and the file it came from."""

    path: Path
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def label(self) -> str:
        return f"{self.path.relative_to(K8S)}:{self.kind}/{self.name}"


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest under deploy/k8s (kustomization files are not API objects)."""
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


@cache
def manifests() -> tuple[Manifest, ...]:
    found = []
    for path in manifest_files():
        for body in yaml.safe_load_all(path.read_text()):
            if body:
                found.append(Manifest(path, body))
    return tuple(found)


def kustomizations() -> dict[Path, dict[str, Any]]:
    return {
        path: yaml.safe_load(path.read_text()) for path in sorted(K8S.rglob("kustomization.yaml"))
    }


def manifests_of(kind: str) -> list[Manifest]:
    return [m for m in manifests() if m.kind == kind]


def one(kind: str, name: str) -> Manifest:
    matches = [m for m in manifests() if m.kind == kind and m.name == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_template(manifest: Manifest) -> dict[str, Any]:
    """The pod template of a Deployment, Job or CronJob."""
    spec = manifest.body["spec"]
    if manifest.kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return dict(spec["template"])


def workloads() -> list[Manifest]:
    return [m for m in manifests() if m.kind in ("Deployment", "Job", "CronJob")]


def config_map_data(name: str) -> dict[str, str]:
    return dict(one("ConfigMap", name).body.get("data", {}))


def container_environment(container: dict[str, Any]) -> dict[str, Any]:
    """Every variable a container gets: ConfigMap keys (envFrom) and its own `env` entries.

    Values are strings, or the `valueFrom` mapping for variables taken from a Secret.
    """
    environment: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        environment.update(config_map_data(source["configMapRef"]["name"]))
    for variable in container.get("env", []):
        environment[variable["name"]] = variable.get("value", variable.get("valueFrom"))
    return environment


def secret_references() -> set[tuple[str, str]]:
    """(Secret name, key) pairs the manifests read through secretKeyRef."""
    references = set()
    for workload in workloads():
        for container in pod_template(workload)["spec"]["containers"]:
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    references.add((ref["name"], ref["key"]))
    return references


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, or a bare label map) selects `labels`."""
    wanted = selector.get("matchLabels", selector) if selector else {}
    assert "matchExpressions" not in selector, "only matchLabels selectors are checked here"
    return all(labels.get(key) == value for key, value in wanted.items())


# --- Compose --------------------------------------------------------------------------------


def load_compose(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def merged_compose_environment(service: str) -> dict[str, str]:
    """A compose service's environment with every compose file applied in order."""
    environment: dict[str, str] = {}
    for path in COMPOSE_FILES:
        definition = load_compose(path)["services"].get(service, {})
        environment.update(definition.get("environment", {}))
    return environment


# --- Dockerfile and .dockerignore -----------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int

    def words(self) -> list[str]:
        """The arguments split as the shell or the JSON (exec) form would."""
        text = self.arguments.strip()
        if text.startswith("["):
            return list(json.loads(text))
        return shlex.split(text)


@dataclass
class Dockerfile:
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def stages(self) -> int:
        return sum(1 for i in self.instructions if i.keyword == "FROM")

    def of_stage(self, stage: int) -> list[Instruction]:
        return [i for i in self.instructions if i.stage == stage]

    def final_stage(self) -> list[Instruction]:
        return self.of_stage(self.stages - 1)


def parse_dockerfile(text: str) -> Dockerfile:
    """Instructions with their stage; comments dropped and continuation lines joined."""
    dockerfile = Dockerfile()
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        dockerfile.instructions.append(Instruction(keyword, arguments.strip(), stage))
    return dockerfile


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    destination: str
    from_stage: str | None
    workdir: str


def copies(instructions: list[Instruction]) -> list[Copy]:
    """COPY instructions with their flags read and the WORKDIR they run in."""
    found = []
    workdir = "/"
    for instruction in instructions:
        if instruction.keyword == "WORKDIR":
            workdir = instruction.arguments
        if instruction.keyword != "COPY":
            continue
        words = instruction.words()
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        from_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
        found.append(Copy(paths[:-1], paths[-1], from_stage, workdir))
    return found


def destination_of(copy: Copy, source: str) -> str:
    """Where `source` lands in the image. A folder's contents are copied into the destination
    (not the folder itself); a file copied to a folder keeps its name."""
    destination = copy.destination
    into_folder = destination.endswith("/") or destination in (".", "./")
    destination = posixpath.normpath(posixpath.join(copy.workdir, destination))
    if into_folder and not (REPO / source).is_dir():
        return posixpath.join(destination, posixpath.basename(source))
    return destination


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) per .dockerignore line, in order."""
    rules = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _pattern(line.lstrip("!").strip().strip("/"))))
    return rules


def _pattern(pattern: str) -> re.Pattern[str]:
    # Docker's matcher: `**` spans path segments, `*` and `?` stay within one.
    regex, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif pattern[index] == "?":
            regex, index = regex + "[^/]", index + 1
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return re.compile(f"^{regex}$")


def sent_to_builder(relative_path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether a path in the repository is part of the build context (the last match wins, and a
    pattern matching a parent folder matches everything in it)."""
    parts = relative_path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, pattern in rules:
        if any(pattern.match(candidate) for candidate in candidates):
            excluded = not negated
    return not excluded


def files_under(path: Path) -> Iterator[Path]:
    """The files of a source tree, without caches and local build output."""
    if path.is_file():
        yield path
        return
    skipped = {"__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist"}
    for candidate in sorted(path.rglob("*")):
        parts = set(candidate.relative_to(path).parts)
        if (
            candidate.is_file()
            and not parts & skipped
            and not any(part.endswith(".egg-info") for part in parts)
        ):
            yield candidate
