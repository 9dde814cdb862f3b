"""Reading a SNOMED CT RF2 Snapshot: active concepts, their names and their |is a| links.

The files are tab-separated with a header row, UTF-8, one row per component (a Snapshot holds
each component's latest state). Every file matching a pattern below the directory is read, so
a directory holding the International release and the UK extension side by side is one load.
"""

from collections.abc import Iterator
from pathlib import Path

IS_A = "116680003"
FULLY_SPECIFIED_NAME = "900000000000003001"
CONCEPT_FILES = "sct2_Concept_Snapshot_*.txt"
DESCRIPTION_FILES = "sct2_Description_Snapshot-en_*.txt"
RELATIONSHIP_FILES = "sct2_Relationship_Snapshot_*.txt"


class ReleaseError(Exception):
    """The directory is not an RF2 Snapshot Signpost can read."""


def files(directory: Path, pattern: str) -> list[Path]:
    """The files of `directory` (and below) matching `pattern`, in name order."""
    found = sorted(directory.rglob(pattern))
    if not found:
        raise ReleaseError(f"no {pattern} file under {directory}")
    return found


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[list[str]]:
    """The rows of an RF2 file, checking that its header names `columns` first."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if tuple(header[: len(columns)]) != columns:
            raise ReleaseError(f"{path.name}: expected the columns {', '.join(columns)}")
        for line in handle:
            row = line.rstrip("\r\n").split("\t")
            if len(row) >= len(columns):
                yield row


def active_concepts(directory: Path) -> Iterator[int]:
    """The ids of the active concepts."""
    for path in files(directory, CONCEPT_FILES):
        for row in _rows(path, ("id", "effectiveTime", "active")):
            if row[2] == "1":
                yield int(row[0])


def names(directory: Path) -> dict[int, str]:
    """A name for each concept: its fully specified name, else its first active synonym."""
    fully_specified: dict[int, str] = {}
    other: dict[int, str] = {}
    columns = ("id", "effectiveTime", "active", "moduleId", "conceptId", "languageCode", "typeId")
    for path in files(directory, DESCRIPTION_FILES):
        for row in _rows(path, (*columns, "term")):
            if row[2] != "1":
                continue
            concept = int(row[4])
            if row[6] == FULLY_SPECIFIED_NAME:
                fully_specified[concept] = row[7]
            else:
                other.setdefault(concept, row[7])
    return other | fully_specified


def is_a(directory: Path) -> Iterator[tuple[int, int]]:
    """(child, parent) for every active |is a| relationship."""
    columns = ("id", "effectiveTime", "active", "moduleId", "sourceId", "destinationId")
    for path in files(directory, RELATIONSHIP_FILES):
        for row in _rows(path, (*columns, "relationshipGroup", "typeId")):
            if row[2] == "1" and row[7] == IS_A:
                yield int(row[4]), int(row[5])
