"""The documents directory-api serves, in one place: the ORUK records and their FHIR views.

Every document is built here when a record changes, and stored; reads serve the stored JSON, or
splice stored documents together (an organisation with its services). Features call this
package; it reads and writes through the repositories; it never calls a feature's service or
router back (an import contract in pyproject.toml holds the direction).

- `shape`: what every document shares (no empties, key order, timestamps, ids of children);
- `oruk`: the ORUK documents, built from validated input and stored records;
- `fhir`: the UK Core shaped FHIR resources, built from the ORUK documents;
- `facts`: the filterable facts of a rendered service;
- `rendering`: re-rendering the services (and terms) a change shows in;
- `reading`: documents assembled from stored ones at read time.
"""
