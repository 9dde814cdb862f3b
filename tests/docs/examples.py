"""The request examples of the documentation, read from the Markdown as a reader would run them.

An example is marked by an HTML comment just before the fenced block that holds it:

    <!-- example: referral POST /fhir/ServiceRequest 201 -->

naming the service, the method, the path and the status the documentation promises. In a shell
block the marker names the `curl` command with that method and path (several markers may stand
before one block); a `json` block is the request body itself. The bearer token is minted as the
documentation mints it: the latest `TOKEN=$(make -s token SCOPES='...' ODS=...)` before the
example in the same document (every development scope when SCOPES is not given).
"""

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from signpost_platform.auth import ALL_DEVELOPMENT_SCOPES

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", "docs/integrator-guide.md", "docs/referral-api.md", "docs/screening.md"]
MARKER = re.compile(
    r"<!--\s*example:\s*(?P<service>\w+)\s+(?P<method>[A-Z]+)\s+(?P<path>\S+)\s+(?P<status>\d{3})\s*-->"
)
FENCE = re.compile(r"^```(?P<language>\w*)\n(?P<text>.*?)^```", re.DOTALL | re.MULTILINE)
TOKEN = re.compile(r"TOKEN=\$\(make -s token(?P<arguments>[^)]*)\)")


@dataclass
class Example:
    document: str
    line: int
    service: str
    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    body: Any = None
    scopes: list[str] = field(default_factory=lambda: list(ALL_DEVELOPMENT_SCOPES))
    ods: str | None = None
    problem: str | None = None  # why the marked example could not be read

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line} {self.method} {self.path} {self.status}"


@dataclass(frozen=True, slots=True)
class Curl:
    method: str
    url: str
    headers: dict[str, str]
    data: str | None


def examples() -> list[Example]:
    found = []
    for document in DOCUMENTS:
        found += examples_in(document, (ROOT / document).read_text(encoding="utf-8"))
    return found


def examples_in(document: str, markdown: str) -> list[Example]:
    found = []
    for marker in MARKER.finditer(markdown):
        line = markdown.count("\n", 0, marker.start()) + 1
        example = Example(
            document,
            line,
            marker["service"],
            marker["method"],
            marker["path"],
            int(marker["status"]),
        )
        block = FENCE.search(markdown, marker.end())
        between = markdown[marker.end() : block.start()] if block else ""
        if block is None or MARKER.sub("", between).strip():
            example.problem = "no fenced block follows the marker"
            _token(example, markdown[: marker.start()])
        elif block["language"] == "json":
            _from_json(example, block["text"])
            _token(example, markdown[: marker.start()])
        else:
            offset = _from_shell(example, block["text"])
            _token(example, markdown[: block.start("text") + offset])
        found.append(example)
    return found


def unmarked_request_bodies(document: str, markdown: str) -> list[str]:
    """Inline request bodies (`curl ... -d '...'`) that no marker names."""
    marked = {(e.method, e.path) for e in examples_in(document, markdown) if e.problem is None}
    missing = []
    for block in FENCE.finditer(markdown):
        for curl in curls(block["text"]):
            if curl.data is None or curl.data.startswith("@"):
                continue
            if (curl.method, urlsplit(curl.url).path) not in marked:
                missing.append(f"{document}: {curl.method} {curl.url}")
    return missing


def _token(example: Example, before: str) -> None:
    minted = list(TOKEN.finditer(before))
    if not minted:
        return
    arguments = shlex.split(minted[-1]["arguments"])
    for argument in arguments:
        name, _, value = argument.partition("=")
        if name == "SCOPES":
            example.scopes = value.split()
        elif name == "ODS":
            example.ods = value


def _from_json(example: Example, text: str) -> None:
    try:
        example.body = json.loads(text)
    except json.JSONDecodeError as error:
        example.problem = f"the json block is not JSON: {error}"
    example.headers = {"Content-Type": "application/fhir+json"}


def _from_shell(example: Example, text: str) -> int:
    """Read the example's curl from a shell block; its offset in the block (0 if not found)."""
    for offset, curl in _located_curls(text):
        parts = urlsplit(curl.url)
        if curl.method == example.method and parts.path == example.path:
            example.headers = {
                k: v for k, v in curl.headers.items() if k.lower() != "authorization"
            }
            example.query = parts.query
            if curl.data is not None:
                try:
                    example.body = json.loads(curl.data)
                except json.JSONDecodeError as error:
                    example.problem = f"the curl body is not JSON: {error}"
            return offset
    example.problem = f"no curl {example.method} {example.path} in the block"
    return 0


def curls(text: str) -> list[Curl]:
    """The curl commands of a shell block (continuation lines joined, pipes cut off)."""
    return [curl for _, curl in _located_curls(text)]


def _located_curls(text: str) -> list[tuple[int, Curl]]:
    found = []
    for offset, command in _commands(text):
        try:
            words = shlex.split(command, comments=True)
        except ValueError:
            continue
        if "curl" not in words:
            continue
        words = words[words.index("curl") + 1 :]
        if "|" in words:
            words = words[: words.index("|")]
        method, url, headers, data = "GET", "", {}, None
        iterator = iter(words)
        for word in iterator:
            if word in ("-X", "--request"):
                method = next(iterator)
            elif word in ("-H", "--header"):
                name, _, value = next(iterator).partition(":")
                headers[name.strip()] = value.strip()
            elif word in ("-d", "--data", "--data-binary", "--data-raw"):
                data = next(iterator)
            elif word.startswith("http"):
                url = word
        if data is not None and method == "GET":
            method = "POST"
        found.append((offset, Curl(method, url, headers, data)))
    return found


def _commands(text: str) -> list[tuple[int, str]]:
    """Split a shell block into (offset, command) at newlines outside quotes; `\\` joins lines."""
    commands: list[tuple[int, str]] = []
    current: list[str] = []
    quote, comment, start = "", False, 0
    text = text.replace("\\\n", "  ")  # same length: offsets stay those of the block
    for position, character in enumerate(text):
        if comment:
            comment = character != "\n"
            if comment:
                continue
        if quote:
            if character == quote:
                quote = ""
        elif character == "#" and (not current or current[-1].isspace()):
            comment = True
            continue
        elif character in "'\"":
            quote = character
        if character == "\n" and not quote:
            commands.append((start, "".join(current)))
            current, start = [], position + 1
            continue
        current.append(character)
    commands.append((start, "".join(current)))
    return [(offset, c) for offset, c in commands if c.strip()]
