// A certified OpenID provider (panva/oidc-provider 8.8.1, pinned in package.json: the newest line
// whose supported runtimes include Node 20 LTS; 9.x asks for Node 22) on 127.0.0.1, for the
// mastra-auth OIDC end-to-end test (crates/auth/tests/it/oidc_provider_e2e.rs), which starts it.
//
// - Listens on 127.0.0.1 with an OS-chosen port (or $PORT); the issuer is http://127.0.0.1:<port>.
// - Prints ONE line of JSON on stdout once ready: {"issuer": ..., "resource": ..., "clients": ...}.
// - Exits when stdin closes, so it never outlives the test that spawned it.
// - Signing key: a fresh RSA-2048 key per run (RS256), published at <issuer>/jwks.
// - Clients (client_credentials, client_secret_post) issue JWT access tokens (RS256) for the
//   resource indicator RESOURCE: `e2e-client` with a 300 s lifetime, `e2e-short` with 5 s.
// - With $REDIRECT_URIS (comma-separated), two browser sign-in clients (authorization_code with
//   PKCE S256 required, refresh_token, client_secret_post) for the server's sign-in e2e
//   (crates/server/tests/it/signin_oidc.rs): `e2e-web` (access tokens 300 s) and `e2e-web-short`
//   (3 s, to exercise refresh). The built-in development login and consent forms are on: any
//   login name signs in as that account, with `email` <login>@example.test and `name`.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const RESOURCE = process.env.RESOURCE || 'https://api.mastra-e2e.test';
const CLIENTS = {
  'e2e-client': { secret: 'e2e-client-secret-0123456789abcdef', ttl: 300 },
  'e2e-short': { secret: 'e2e-short-secret-0123456789abcdef', ttl: 5 },
};
const REDIRECT_URIS = (process.env.REDIRECT_URIS || '').split(',').filter(Boolean);
const WEB_CLIENTS = REDIRECT_URIS.length === 0 ? {} : {
  'e2e-web': { secret: 'e2e-web-secret-0123456789abcdef0123', ttl: 300 },
  'e2e-web-short': { secret: 'e2e-web-short-secret-0123456789abcd', ttl: 3 },
};
const TTL = Object.fromEntries(
  Object.entries({ ...CLIENTS, ...WEB_CLIENTS }).map(([id, { ttl }]) => [id, ttl]),
);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `e2e-${Date.now()}`, alg: 'RS256', use: 'sig' };

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: Object.entries(CLIENTS).map(([id, { secret }]) => ({
    client_id: id,
    client_secret: secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  })).concat(Object.entries(WEB_CLIENTS).map(([id, { secret }]) => ({
    client_id: id,
    client_secret: secret,
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: REDIRECT_URIS,
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }))),
  pkce: { methods: ['S256'], required: () => true },
  // Refresh tokens for the sign-in clients without the offline_access consent dance.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Profile claims in the ID token (not only at userinfo), as the sign-in's profile reads them.
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.test`, email_verified: true, name: `User ${id}` }),
  }),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'api:read'],
  features: {
    devInteractions: { enabled: REDIRECT_URIS.length > 0 },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resourceIndicator, client) => {
        if (resourceIndicator !== RESOURCE) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: 'api:read',
          audience: RESOURCE,
          accessTokenTTL: TTL[client.clientId] ?? 60,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({
  issuer,
  resource: RESOURCE,
  clients: Object.fromEntries(
    Object.entries({ ...CLIENTS, ...WEB_CLIENTS }).map(([id, { secret }]) => [id, secret]),
  ),
})}\n`);

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
