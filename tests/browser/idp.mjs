// A real OpenID Connect provider for the tests: `oidc-provider` (a certified
// implementation, from npm), on 127.0.0.1, with one confidential web client
// and the test accounts. Started by the browser tests (run.sh) and by the
// API tests (tests/src/idp.rs); both pass its settings as JSON in IDP_CONFIG:
//
//   { "port": 0, "client_id": "...", "client_secret": "...",
//     "redirect_uris": ["http://127.0.0.1:PORT/auth/oidc/callback"],
//     "alg": "RS256" | "ES256",
//     "accounts": [{ "sub": "...", "email": "...", "email_verified": true,
//                    "name": "...", "groups": ["..."] }],
//     "auto_login": "sub" (optional: no login form, that account signs in) }
//
// It prints `listening <issuer>` on stdout once it accepts connections.
//
// What the provider itself cannot be made to do — issue a token for another
// audience, an expired one, one with a broken signature or signed by a key
// it does not publish, or hang — the tests ask of it through POST /test/*
// (below): the token endpoint's real answer is then altered on its way out,
// re-signed with the provider's own private keys where the case needs a
// valid signature. Everything else (discovery, authorization, PKCE, client
// authentication, the code) stays oidc-provider's own.

import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK } from 'jose';

const config = JSON.parse(process.env.IDP_CONFIG || '{}');
const alg = config.alg || 'RS256';

async function privateJwk(algorithm, kid) {
  const { privateKey } = await generateKeyPair(algorithm, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: algorithm, use: 'sig' };
}
const publicPart = ({ d, p, q, dp, dq, qi, ...rest }) => rest;

const keys = [await privateJwk('RS256', 'rs-1'), await privateJwk('ES256', 'es-1')];
// Published only after POST /test/rotate: a key rotation.
const rotated = await privateJwk(alg, `rotated-${randomUUID().slice(0, 8)}`);
// Never published: "signed by a key the provider does not publish".
const unpublished = await privateJwk(alg, 'unpublished');
let rotatedPublished = false;

const accounts = new Map((config.accounts || []).map((a) => [a.sub, a]));
// How the next token answers are altered (POST /test/tamper), and whether
// the token endpoint answers at all (POST /test/hang).
let tamper = 'none';
let hangToken = false;
let autoLogin = config.auto_login || null;

const server = createServer();
await new Promise((resolve) => server.listen(config.port || 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: alg,
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys },
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
  // The claims go into the ID token (the app reads no userinfo).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  scopes: ['openid', 'email', 'profile'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
  async findAccount(_ctx, sub) {
    // The login form's "login" is the account's subject (a user name).
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      async claims() {
        return {
          sub: account.sub,
          email: account.email,
          email_verified: account.email_verified ?? true,
          name: account.name,
          groups: account.groups || [],
        };
      },
    };
  },
  // No consent screen: the client is the team's own app.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

const json = async (ctx) => {
  let raw = '';
  for await (const chunk of ctx.req) raw += chunk;
  return raw ? JSON.parse(raw) : {};
};

async function resign(token, change, key) {
  const claims = { ...decodeJwt(token), ...change(decodeJwt(token)) };
  const signer = await importJWK(key, key.alg);
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(signer);
}

const ownKey = (token) => keys.find((k) => k.kid === decodeProtectedHeader(token).kid);
const now = () => Math.floor(Date.now() / 1000);

const TAMPERS = {
  audience: (t) => resign(t, () => ({ aud: 'some-other-app' }), ownKey(t)),
  expired: (t) => resign(t, () => ({ iat: now() - 7200, exp: now() - 3600 }), ownKey(t)),
  nonce: (t) => resign(t, () => ({ nonce: 'another-sign-in' }), ownKey(t)),
  issuer: (t) => resign(t, () => ({ iss: 'https://someone-else.example' }), ownKey(t)),
  // The payload changed, the provider's own signature kept.
  signature: async (t) => {
    const [header, , signature] = t.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(t), sub: 'someone-else' })).toString('base64url');
    return `${header}.${payload}.${signature}`;
  },
  'unknown-kid': (t) => resign(t, () => ({}), unpublished),
  rotated: (t) => resign(t, () => ({}), rotated),
};

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/test/') && ctx.method === 'POST') {
    const body = await json(ctx);
    if (ctx.path === '/test/tamper') tamper = body.tamper;
    else if (ctx.path === '/test/hang') hangToken = body.hang;
    else if (ctx.path === '/test/rotate') rotatedPublished = true;
    else if (ctx.path === '/test/login') autoLogin = body.sub;
    else if (ctx.path === '/test/account') accounts.set(body.sub, body);
    else { ctx.status = 404; return; }
    ctx.body = { ok: true };
    return;
  }
  if (autoLogin && ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: autoLogin } });
      ctx.respond = false;
      return;
    }
  }
  if (ctx.path === '/token' && hangToken) {
    await new Promise(() => {}); // never answers
  }
  await next();
  if (ctx.path === '/jwks' && rotatedPublished && ctx.body?.keys) {
    ctx.body = { keys: [...ctx.body.keys, publicPart(rotated)] };
  }
  if (ctx.path === '/token' && ctx.status === 200 && tamper !== 'none' && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await TAMPERS[tamper](ctx.body.id_token) };
  }
});

provider.on('server_error', (_ctx, error) => console.error('server_error', error));
server.on('request', provider.callback());
console.log(`listening ${issuer}`);
