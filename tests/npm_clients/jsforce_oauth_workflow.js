// jsforce's OAuth 2.0 web server flow against `sf-sim serve`: authorization code with PKCE
// for the Salesforce CLI's global connected app, a refresh when the session ends, revocation.
// Usage: node jsforce_oauth_workflow.js INSTANCE_URL SESSION_ID
// (the session id stands for the browser's logged-in user, sent as the sid cookie).
// Prints one JSON object with what it saw; exits non-zero on any client error.
const jsforce = require('jsforce');
const [instanceUrl, sessionId] = process.argv.slice(2);
let step = 'start';

(async () => {
  const out = {};
  step = 'authorize';
  const oauth2 = new jsforce.OAuth2({
    clientId: 'PlatformCLI',
    redirectUri: 'http://localhost:1717/OauthRedirect',
    loginUrl: instanceUrl,
    useVerifier: true,
  });
  const page = await fetch(oauth2.getAuthorizationUrl({ state: 'st-1' }), {
    headers: { cookie: `sid=${sessionId}` },
    redirect: 'manual',
  });
  out.authorizeStatus = page.status;
  const callback = new URL(page.headers.get('location'));
  out.state = callback.searchParams.get('state');
  step = 'token';
  const conn = new jsforce.Connection({ oauth2, version: '59.0' });
  const user = await conn.authorize(callback.searchParams.get('code'));
  out.userId = user.id;
  out.hasRefreshToken = Boolean(conn.refreshToken);
  let refreshes = 0;
  conn.on('refresh', () => { refreshes += 1; });
  step = 'refresh on an ended session';
  await oauth2.revokeToken(conn.accessToken);
  out.countAfterRefresh = (await conn.query('SELECT COUNT() FROM Contact')).totalSize;
  out.refreshes = refreshes;
  step = 'revoked refresh token';
  await oauth2.revokeToken(conn.refreshToken);
  await oauth2.revokeToken(conn.accessToken);
  try {
    await conn.query('SELECT COUNT() FROM Contact');
    out.afterRevoke = 'answered';
  } catch (err) {
    out.afterRevoke = err.message;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})().catch((err) => { process.stderr.write(`${step}: ${err && (err.stack || err)}\n`); process.exit(1); });
