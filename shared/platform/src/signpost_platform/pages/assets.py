"""The front-end packages the pages use, pinned, fetched once and served by the service itself.

Each asset is an npm package at a fixed version: its tarball on the npm registry and the sha512
integrity the registry publishes for it. `python -m signpost_platform.pages.assets` (run by
`make run` and `make assets`) downloads each tarball once, refuses it unless the hash matches,
and extracts only the files the pages load into the assets folder (`var/assets` by default,
`<P>_PAGES_ASSETS_DIR`). After that the pages work with no network: a hospital network that
cannot reach the registry installs the folder with the service (the container image does).

NHS.UK frontend's stylesheet names the Frutiger web font on assets.nhs.uk, which the package does
not ship: the copy served here leaves those font faces out, so nothing is fetched from outside
and the text falls back to the NHS.UK font stack (Arial). Its icon URLs are made relative to the
stylesheet, where the icons are extracted.
"""

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from signpost_platform.settings import find_repo_file


@dataclass(frozen=True, slots=True)
class Package:
    """An npm package pinned by version and integrity; `files` maps served paths to the paths
    in the tarball (under `package/`)."""

    name: str
    version: str
    integrity: str
    files: dict[str, str]

    @property
    def tarball(self) -> str:
        base = self.name.rsplit("/", 1)[-1]
        return f"https://registry.npmjs.org/{self.name}/-/{base}-{self.version}.tgz"

    @property
    def folder(self) -> str:
        return self.name.replace("/", "-")


_NHSUK_ICONS = ("arrow-down", "arrow-up-down", "arrow-up", "cross")
_LFORMS_WEB = "dist/lforms/webcomponent"

PACKAGES = (
    Package(
        "nhsuk-frontend",
        "10.6.1",
        "sha512-PZorqQZjZx/A26yJoskCL9z0ib6AtkAyF0o4K/RHr8zRrJyXrUOCnMbjy0VNXsGO4tfTNMwqlkwATKs4a0xayw==",
        {
            "nhsuk-frontend.min.css": "dist/nhsuk/nhsuk-frontend.min.css",
            "nhsuk-frontend.min.js": "dist/nhsuk/nhsuk-frontend.min.js",
            "favicon.ico": "dist/nhsuk/assets/images/favicon.ico",
            **{
                f"images/nhsuk-icon-{icon}.svg": f"dist/nhsuk/assets/images/nhsuk-icon-{icon}.svg"
                for icon in _NHSUK_ICONS
            },
        },
    ),
    Package(
        "lforms",
        "40.1.3",
        "sha512-WLruTm+BcVnafC0rSAQ3/cNqhxvclBUxyBG68aub/uha2NaK9H8ZZcEXTTuORuGzzCt0wa7fvhuieZtcDIdPzQ==",
        {
            "styles.css": f"{_LFORMS_WEB}/styles.css",
            "zone.min.js": f"{_LFORMS_WEB}/assets/lib/zone.min.js",
            "runtime.js": f"{_LFORMS_WEB}/runtime.js",
            "polyfills.js": f"{_LFORMS_WEB}/polyfills.js",
            "main.js": f"{_LFORMS_WEB}/main.js",
            "down_arrow_gray_10_10.png": f"{_LFORMS_WEB}/down_arrow_gray_10_10.png",
            "magnifying_glass.png": f"{_LFORMS_WEB}/magnifying_glass.png",
            "lformsFHIR.min.js": "dist/lforms/fhir/R4/lformsFHIR.min.js",
        },
    ),
)
# Written last, so a folder that has it holds every file of these exact packages.
STAMP = "installed.json"
_FONT_FACE = re.compile(r"@font-face\{[^}]*assets\.nhs\.uk[^}]*\}")


def default_assets_dir() -> Path:
    """`var/assets` beside the repository's alembic.ini (where `make run` keeps its data)."""
    return find_repo_file("alembic.ini").parent / "var" / "assets"


def _pins() -> dict[str, str]:
    return {package.name: f"{package.version} {package.integrity}" for package in PACKAGES}


def installed(folder: Path) -> bool:
    """Whether `folder` holds every file of the pinned packages."""
    stamp = folder / STAMP
    try:
        return bool(json.loads(stamp.read_text()) == _pins())
    except (OSError, ValueError):
        return False


def _verified(package: Package, tarball: bytes) -> bytes:
    algorithm, _, expected = package.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        raise ValueError(f"{package.name}@{package.version}: the tarball's {algorithm} differs")
    return tarball


def _adapted(package: Package, served: str, content: bytes) -> bytes:
    if package.name == "nhsuk-frontend" and served.endswith(".css"):
        text = _FONT_FACE.sub("", content.decode())
        return text.replace("url(/assets/images/", "url(images/").encode()
    return content


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (fixed https URL)
        body: bytes = response.read()
        return body


def install(folder: Path) -> list[str]:
    """Download, verify and extract the pinned packages into `folder`; the files written."""
    if installed(folder):
        return []
    written: list[str] = []
    for package in PACKAGES:
        tarball = _verified(package, _download(package.tarball))
        target = folder / package.folder
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for served, inside in package.files.items():
                member = archive.extractfile(f"package/{inside}")
                if member is None:
                    raise ValueError(f"{package.name}@{package.version} has no {inside}")
                path = target / served
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(_adapted(package, served, member.read()))
                written.append(str(path))
    (folder / STAMP).write_text(json.dumps(_pins(), indent=2))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install the pages' pinned front-end assets.")
    parser.add_argument("folder", nargs="?", type=Path, default=None)
    args = parser.parse_args(argv)
    folder: Path = args.folder or default_assets_dir()
    if installed(folder):
        print(f"page assets already installed in {folder}")
        return 0
    try:
        written = install(folder)
    except (OSError, ValueError) as error:
        print(f"could not install the page assets: {error}", file=sys.stderr)
        return 1
    print(f"page assets installed in {folder} ({len(written)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
