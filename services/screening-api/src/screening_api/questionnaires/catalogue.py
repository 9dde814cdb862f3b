"""The questionnaires this service serves, found by id, canonical URL or search (its
parameters are declared in `search.py`)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from screening_api.questionnaires.tools import ScreeningTool, packaged_tools
from signpost_platform.fhir.search import SearchQuery


@dataclass(frozen=True, slots=True)
class Resolution:
    """The questionnaire a response names, or why it cannot be used."""

    tool: ScreeningTool | None
    problem: str | None = None


@dataclass
class QuestionnaireCatalogue:
    """An immutable set of screening tools, each at one version."""

    tools: Sequence[ScreeningTool] = field(default_factory=packaged_tools)

    def __post_init__(self) -> None:
        self._by_id = {tool.id: tool for tool in self.tools}
        self._by_canonical = {tool.canonical: tool for tool in self.tools}
        if len(self._by_id) != len(self.tools) or len(self._by_canonical) != len(self.tools):
            raise ValueError("two screening tools share an id or a url|version")

    def by_id(self, questionnaire_id: str) -> ScreeningTool | None:
        return self._by_id.get(questionnaire_id)

    def resolve(self, canonical: str | None) -> Resolution:
        """The tool a response's `questionnaire` names: `url|version`, or a url with one active
        version. Retired versions take no new responses."""
        if not canonical:
            return Resolution(None, "a response must name its questionnaire as url|version")
        url, _, version = canonical.partition("|")
        if version:
            tool = self._by_canonical.get(canonical)
            if tool is None:
                return Resolution(None, f"no questionnaire {url} at version {version}")
        else:
            active = [t for t in self.tools if t.url == url and t.status == "active"]
            if len(active) != 1:
                return Resolution(
                    None, f"no single active version of {url}: name the version (url|version)"
                )
            tool = active[0]
        if tool.status != "active":
            return Resolution(None, f"{tool.canonical} is {tool.status} and takes no new responses")
        return Resolution(tool)

    def search(self, query: SearchQuery) -> list[ScreeningTool]:
        """Tools matching every parameter of `query` (values of one parameter OR together)."""
        found = list(self.tools)
        for values in query.ids():
            found = [t for t in found if t.id in values]
        for values in query.occurrences("url"):
            found = [t for t in found if t.url in values]
        for values in query.occurrences("name"):
            prefixes = [v.lower() for v in values]
            found = [t for t in found if t.computable_name.lower().startswith(tuple(prefixes))]
        for values in query.occurrences("version"):
            found = [t for t in found if t.version in values]
        for values in query.occurrences("status"):
            found = [t for t in found if t.status in values]
        return sorted(found, key=lambda t: (t.name, t.version))
