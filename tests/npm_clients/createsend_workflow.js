// createsend-node against `cm-sim serve`: its default /api/v3 prefix, /api/v3.1 and
// lower-case transactional routes, its classic send (clientID in the body). Usage: node createsend_workflow.js HOST:PORT API_KEY
// Prints one JSON object with what it saw; exits non-zero on any client error.
const createsend = require('createsend-node');
const [host, apiKey] = process.argv.slice(2);
const api = new createsend({ apiKey }, { baseUri: host });
let step = 'start';
const call = (fn, ...args) => new Promise((resolve, reject) => {
  step = fn.name || step;
  fn(...args, (err, res) => (err ? reject(err) : resolve(res)));
});

(async () => {
  const out = {};
  out.systemDate = String((await call(api.getSystemDate.bind(api))).SystemDate);
  const clients = await call(api.account.getClients.bind(api.account));
  out.clients = clients.length;
  const clientId = clients[0].clientId;
  const lists = await call(api.clients.getLists.bind(api.clients), clientId);
  out.lists = lists.length;
  const listId = lists[0].ListID || lists[0].listId;
  await call(api.subscribers.addSubscriber.bind(api.subscribers), listId,
    { EmailAddress: 'node@example.com', Name: 'Node', ConsentToTrack: 'Yes' });
  const details = await call(api.subscribers.getSubscriberDetails.bind(api.subscribers), listId, 'node@example.com');
  out.subscriberState = details.State;
  const active = await call(api.lists.getActiveSubscribers.bind(api.lists), listId, {});
  out.activeTotal = active.TotalNumberOfRecords;
  const campaigns = await call(api.clients.getSentCampaigns.bind(api.clients), clientId);
  out.sentCampaignsIsArray = Array.isArray(campaigns);
  const smart = await call(api.transactional.smartEmailList.bind(api.transactional), { clientID: clientId });
  out.smartEmails = smart.length;
  if (smart.length) {
    const sent = await call(api.transactional.sendSmartEmail.bind(api.transactional),
      { smartEmailID: smart[0].ID, To: ['node@example.com'], Data: { name: 'Node' }, ConsentToTrack: 'Yes' });
    out.smartSendStatus = sent[0].Status;
  }
  // Its classic send loses the query string and carries clientID in the body.
  const classic = await call(api.transactional.sendClassicEmail.bind(api.transactional),
    { clientID: clientId, Subject: 'Receipt', From: 'shop@example.com', To: ['node@example.com'],
      HTML: '<p>hi</p>', ConsentToTrack: 'No', Group: 'Receipts' });
  out.classicSendStatus = classic[0].Status;
  const messages = await call(api.transactional.messageTimeline.bind(api.transactional), { clientID: clientId });
  out.messages = messages.length;
  const message = await call(api.transactional.messageDetails.bind(api.transactional),
    { messageID: classic[0].MessageID, statistics: true });
  out.classicSubject = message.Message.Subject;
  try {
    await call(api.subscribers.getSubscriberDetails.bind(api.subscribers), listId, 'nobody@example.com');
    out.missingSubscriber = 'found';
  } catch (err) {
    out.missingSubscriber = err.Code;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((err) => { process.stderr.write(`${step}: ${err && (err.stack || JSON.stringify(err))}\n`); process.exit(1); });
