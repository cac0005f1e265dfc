// jsforce against `sf-sim serve`: password and token login, identity(), query and
// queryMore, CRUD, upsert, sObject Collections and Bulk API 2.0.
// Usage: node jsforce_workflow.js INSTANCE_URL USERNAME PASSWORD+TOKEN
// Prints one JSON object with what it saw; exits non-zero on any client error.
const jsforce = require('jsforce');
const [instanceUrl, username, password] = process.argv.slice(2);
let step = 'start';

(async () => {
  const out = {};
  step = 'password login';
  const conn = new jsforce.Connection({ loginUrl: instanceUrl, version: '59.0' });
  const info = await conn.login(username, password);
  out.orgId = info.organizationId;
  step = 'token login';
  const byToken = new jsforce.Connection({ instanceUrl, accessToken: conn.accessToken, version: '59.0' });
  step = 'identity';
  const me = await byToken.identity();
  out.identityUser = me.username;
  step = 'create';
  const created = await conn.sobject('Contact').create({ LastName: 'Js', Email: 'js@example.com' });
  out.created = created.success;
  step = 'retrieve';
  out.retrievedName = (await conn.sobject('Contact').retrieve(created.id)).LastName;
  step = 'update';
  out.updated = (await conn.sobject('Contact').update({ Id: created.id, LastName: 'Jsforce' })).success;
  step = 'upsert';
  const upserted = await conn.sobject('Contact').upsert({ Id: created.id, Title: 'Upserted' }, 'Id');
  out.upserted = upserted.success && upserted.created === false;
  step = 'collections';
  const many = await conn.sobject('Contact').create(
    Array.from({ length: 5 }, (_, i) => ({ LastName: `Batch${i}` })), { allOrNone: true });
  out.collectionCreated = many.filter((r) => r.success).length;
  step = 'query';
  const first = await byToken.query('SELECT Id, LastName FROM Contact', { autoFetch: false, maxFetch: 10000 });
  out.queryTotal = first.totalSize;
  step = 'queryMore';
  const all = await byToken.query('SELECT Id FROM Contact').run({ autoFetch: true, maxFetch: 100000 });
  out.queryAllFetched = all.records.length;
  step = 'delete';
  out.deleted = (await conn.sobject('Contact').destroy(created.id)).success;
  step = 'bulk2 ingest';
  conn.bulk2.pollTimeout = 60000;
  conn.bulk2.pollInterval = 200;
  const ingest = await conn.bulk2.loadAndWaitForResults({
    object: 'Contact', operation: 'insert',
    input: 'LastName,Email\nBulk2a,b2a@example.com\nBulk2b,b2b@example.com\n',
  });
  out.bulk2Successful = ingest.successfulResults.length;
  step = 'bulk2 query';
  const rows = await conn.bulk2.query("SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Bulk2%'");
  const read = [];
  for await (const row of rows) read.push(row);
  out.bulk2Queried = read.length;
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((err) => { process.stderr.write(`${step}: ${err && (err.stack || err)}\n`); process.exit(1); });
