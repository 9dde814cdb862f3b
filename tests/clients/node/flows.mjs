// fhir-kit-client (Vermonster's FHIR client for JavaScript) against a real referral-api: each
// flow as an integrator writes it with the client's own methods and per-request headers.
//
//   node flows.mjs <FHIR base URL> <scenario.json>
//
// The scenario (tests/clients/scenario.py) holds the token, the bodies and the answers owed.
// Prints one JSON object: for each flow, "passed" or the reason it failed.
import { readFileSync } from 'node:fs';
import { Client, RESPONSE_KEY } from 'fhir-kit-client';

const [baseUrl, scenarioFile] = process.argv.slice(2);
const scenario = JSON.parse(readFileSync(scenarioFile, 'utf8'));
const client = new Client({
  baseUrl,
  customHeaders: { Authorization: scenario.token },
});
const SR = 'ServiceRequest';

function check(condition, message) {
  if (!condition) throw new Error(message);
}
function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}
const response = (result) => result[RESPONSE_KEY];
const identifiers = (bundle) =>
  (bundle.entry ?? [])
    .filter((e) => e.resource.resourceType === SR)
    .map((e) => e.resource.identifier[0].value)
    .sort();
const createAll = async (bodies) => {
  for (const body of bodies) await client.create({ resourceType: SR, body });
};
async function refusal(promise) {
  try {
    await promise;
  } catch (error) {
    return error.response;
  }
  throw new Error('the request was not refused');
}

const flows = {
  async capabilities() {
    const statement = await client.capabilityStatement();
    same(statement.fhirVersion, '4.0.1', 'fhirVersion');
    const serviceRequest = statement.rest[0].resource.find((r) => r.type === SR);
    const interactions = serviceRequest.interaction.map((i) => i.code);
    for (const code of ['create', 'read', 'update', 'search-type']) {
      check(interactions.includes(code), `${code} not listed`);
    }
    same(serviceRequest.versioning, 'versioned-update', 'versioning');
  },

  async create() {
    const created = await client.create({ resourceType: SR, body: scenario.created });
    same(response(created).status, 201, 'status');
    same(response(created).headers.get('etag'), 'W/"1"', 'ETag');
    check(created.id, 'no id');
    same(created.meta.versionId, '1', 'meta.versionId');
  },

  async conditionalCreate() {
    const first = await client.create({ resourceType: SR, body: scenario.conditional });
    const condition = `identifier=${scenario.emisId}|${scenario.conditional.identifier[0].value}`;
    const again = await client.create({
      resourceType: SR,
      body: scenario.conditional,
      options: { headers: { 'If-None-Exist': condition } },
    });
    same(response(again).status, 200, 'status');
    same(again.id, first.id, 'id');
    const found = await client.search({ resourceType: SR, searchParams: { identifier: condition.slice(11) } });
    same(found.total, 1, 'referrals with the identifier');
  },

  async read() {
    const created = await client.create({ resourceType: SR, body: scenario.read });
    const read = await client.read({ resourceType: SR, id: created.id });
    same(read.id, created.id, 'id');
    same(read.identifier, created.identifier, 'identifier');
    same(response(read).headers.get('etag'), 'W/"1"', 'ETag');
  },

  async search() {
    await createAll(scenario.searched);
    const bundle = await client.search({ resourceType: SR, searchParams: scenario.search });
    same(bundle.type, 'searchset', 'Bundle.type');
    same(identifiers(bundle), scenario.searchMatches, 'matches');
    same(bundle.total, scenario.searchMatches.length, 'total');
  },

  async paging() {
    await createAll(scenario.paged);
    let page = await client.search({
      resourceType: SR,
      searchParams: { ...scenario.paging, _count: scenario.pageSize },
    });
    const seen = [];
    let pages = 0;
    while (page) {
      pages += 1;
      seen.push(...identifiers(page));
      page = await client.nextPage({ bundle: page });
    }
    same(seen.sort(), scenario.paged.map((r) => r.identifier[0].value).sort(), 'every referral');
    same(pages, Math.ceil(scenario.paged.length / scenario.pageSize), 'pages');
  },

  async count() {
    await createAll(scenario.counted);
    const bundle = await client.search({
      resourceType: SR,
      searchParams: { ...scenario.count, _summary: 'count' },
    });
    same(bundle.total, scenario.countTotal, 'total');
    same(bundle.entry ?? [], [], 'entries');
  },

  async update() {
    const created = await client.create({ resourceType: SR, body: scenario.updated });
    const read = await client.read({ resourceType: SR, id: created.id });
    const updated = await client.update({
      resourceType: SR,
      id: read.id,
      body: { ...read, status: 'on-hold' },
      options: { headers: { 'If-Match': response(read).headers.get('etag') } },
    });
    same(updated.meta.versionId, '2', 'meta.versionId');
    same(response(updated).headers.get('etag'), 'W/"2"', 'ETag');
    same((await client.read({ resourceType: SR, id: created.id })).status, 'on-hold', 'status');
  },

  async staleUpdateRefused() {
    const created = await client.create({ resourceType: SR, body: scenario.stale });
    const stale = { headers: { 'If-Match': 'W/"1"' } };
    await client.update({ resourceType: SR, id: created.id, body: { ...created, status: 'on-hold' }, options: stale });
    const refused = await refusal(
      client.update({ resourceType: SR, id: created.id, body: { ...created, status: 'revoked' }, options: stale })
    );
    same(refused.status, 412, 'status');
    same(refused.data.resourceType, 'OperationOutcome', 'body');
    const stored = await client.read({ resourceType: SR, id: created.id });
    same([stored.status, stored.meta.versionId], ['on-hold', '2'], 'stored');
  },

  async processMessage() {
    const answer = await client.operation({ name: 'process-message', input: scenario.message });
    same([answer.resourceType, answer.type], ['Bundle', 'message'], 'answer');
    same(answer.entry[0].resource.response.code, 'ok', 'MessageHeader.response.code');
    const referral = scenario.message.entry[1].resource.identifier[0];
    const found = await client.search({
      resourceType: SR,
      searchParams: { identifier: `${referral.system}|${referral.value}` },
    });
    same(found.total, 1, 'referrals from the message');
  },
};

const results = {};
for (const [name, flow] of Object.entries(flows)) {
  try {
    await flow();
    results[name] = 'passed';
  } catch (error) {
    const status = error.response?.status;
    const body = error.response?.data;
    results[name] = status ? `HTTP ${status}: ${JSON.stringify(body)}` : String(error.stack ?? error);
  }
}
process.stdout.write(JSON.stringify(results));
