// jsforce's Bulk API 1.0 (XML jobs, CSV batches) and query paging against `sf-sim serve`.
// Usage: node jsforce_bulk1_workflow.js INSTANCE_URL USERNAME PASSWORD+TOKEN
// Prints one JSON object with what it saw; exits non-zero on any client error.
const jsforce = require('jsforce');
const [instanceUrl, username, password] = process.argv.slice(2);
let step = 'start';

const load = (conn, type, operation, optionsOrInput, input) =>
  new Promise((resolve, reject) => {
    const batch = conn.bulk.load(type, operation, optionsOrInput, input);
    let jobId = null;
    batch.on('queue', () => { jobId = batch.job.id; });
    batch.on('error', reject);
    batch.on('response', (results) => resolve({ results, jobId }));
  });

(async () => {
  const out = {};
  step = 'login';
  const conn = new jsforce.Connection({ loginUrl: instanceUrl, version: '59.0' });
  await conn.login(username, password);
  conn.bulk.pollInterval = 100;
  conn.bulk.pollTimeout = 60000;

  step = 'bulk1 insert';
  const rows = Array.from({ length: 2100 }, (_, i) => ({
    LastName: `Bulk1_${String(i).padStart(4, '0')}`, Email: `b${i}@example.com`, Title: null,
  }));
  rows.push({ FirstName: 'NoLastName' });
  const inserted = await load(conn, 'Contact', 'insert', rows);
  out.insertOk = inserted.results.filter((r) => r.success && r.created).length;
  const refused = inserted.results.filter((r) => !r.success);
  out.insertRefused = refused.map((r) => r.errors[0]);
  step = 'bulk1 job closed';
  out.insertJobState = (await conn.bulk.job(inserted.jobId).check()).state;
  const ids = inserted.results.filter((r) => r.success).map((r) => r.id);

  step = 'bulk1 update';
  const updated = await load(conn, 'Contact', 'update',
    ids.slice(0, 5).map((Id) => ({ Id, Title: 'Updated by Bulk 1.0' })));
  out.updateOk = updated.results.filter((r) => r.success && !r.created).length;

  step = 'bulk1 upsert';
  const upserted = await load(conn, 'Contact', 'upsert', { extIdField: 'Id' },
    [{ Id: ids[5], LastName: 'Bulk1_0005', Title: 'Upserted' },
      { Id: '', LastName: 'Bulk1_new', Title: 'Upserted' }]);
  out.upsertCreated = upserted.results.map((r) => r.success && r.created);

  step = 'query, autoFetch';
  const soql = "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Bulk1_%' ORDER BY LastName";
  const all = await conn.query(soql).run({ autoFetch: true, maxFetch: 100000 });
  out.autoFetched = all.records.length;
  out.autoFetchTotal = all.totalSize;
  out.autoFetchFirst = all.records[0].LastName;
  out.autoFetchLast = all.records[all.records.length - 1].LastName;

  step = 'query, explicit queryMore in batches of 200';
  const headers = { 'Sforce-Query-Options': 'batchSize=200' };
  let page = await conn.query(soql, { headers, autoFetch: false });
  const pageSizes = [page.records.length];
  const seen = new Set(page.records.map((r) => r.Id));
  while (!page.done) {
    page = await conn.queryMore(page.nextRecordsUrl, { headers, autoFetch: false });
    pageSizes.push(page.records.length);
    page.records.forEach((r) => seen.add(r.Id));
  }
  out.pageSizes = pageSizes;
  out.distinctPaged = seen.size;

  step = 'bulk1 query';
  const stream = await conn.bulk.query(
    "SELECT Id, LastName, Title, CreatedDate FROM Contact WHERE Title = 'Updated by Bulk 1.0'");
  const queried = [];
  await new Promise((resolve, reject) => {
    stream.on('record', (r) => queried.push(r));
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  out.bulkQueried = queried.length;
  out.bulkQueryColumns = Object.keys(queried[0]).sort();
  out.bulkQueryCreatedDate = queried[0].CreatedDate;

  step = 'bulk1 delete';
  const deleted = await load(conn, 'Contact', 'delete', ids.map((Id) => ({ Id })));
  out.deleteOk = deleted.results.filter((r) => r.success).length;

  step = 'bulk1 unknown object';
  try {
    await conn.bulk.createJob('NoSuchObject__c', 'insert').open();
    out.unknownObject = 'accepted';
  } catch (err) {
    out.unknownObject = `${err.errorCode}: ${err.message}`;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((err) => { process.stderr.write(`${step}: ${err && (err.stack || err)}\n`); process.exit(1); });
