// Keys, a JWK Set and pre-minted JWTs for the load benchmarks (Node's built-in crypto only).
//
// Usage: node mint.mjs DIR [--secret S] [--iss URL] [--aud A] [--hs256 N] [--rs256 N] [--es256 N]
//
// DIR/rs256.pem, DIR/es256.pem   signing keys (RSA-2048, P-256), generated once and kept
// DIR/jwks.json                  their public JWKs (kid "bench-rs256" / "bench-es256", alg, use: sig)
// DIR/<alg>-one.txt              one token
// DIR/<alg>-<N>.txt              N distinct tokens (sub user-0 .. user-N-1), one per line
//
// Tokens carry sub, name, role, iat, exp (+12 h), and iss/aud when --iss/--aud are given (the
// asymmetric ones always: the jwks provider requires both). Files younger than 6 h are reused,
// so repeated runs only pay the RSA signing (about 0.5 ms per token) once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const b64u = (buf) => Buffer.from(buf).toString('base64url');

function signer(alg, secretOrPem) {
  if (alg === 'HS256') {
    const key = Buffer.from(secretOrPem);
    return (input) => crypto.createHmac('sha256', key).update(input).digest();
  }
  const key = crypto.createPrivateKey(secretOrPem);
  if (alg === 'RS256') return (input) => crypto.sign('sha256', Buffer.from(input), key);
  return (input) => crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
}

function mintRange({ alg, kid, keyMaterial, from, to, iss, aud }) {
  const sign = signer(alg, keyMaterial);
  const header = b64u(JSON.stringify(kid ? { alg, typ: 'JWT', kid } : { alg, typ: 'JWT' }));
  const iat = Math.floor(Date.now() / 1000);
  const out = [];
  for (let n = from; n < to; n++) {
    const claims = { sub: `user-${n}`, name: 'Bench User', role: 'user', iat, exp: iat + 12 * 3600 };
    if (iss) claims.iss = iss;
    if (aud) claims.aud = aud;
    const input = `${header}.${b64u(JSON.stringify(claims))}`;
    out.push(`${input}.${b64u(sign(input))}`);
  }
  return out;
}

if (!isMainThread) {
  parentPort.postMessage(mintRange(workerData));
} else {
  const args = process.argv.slice(2);
  const dir = args.shift();
  if (!dir) {
    console.error('usage: node mint.mjs DIR [--secret S] [--iss URL] [--aud A] [--hs256 N] [--rs256 N] [--es256 N]');
    process.exit(2);
  }
  const opt = {};
  for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];
  fs.mkdirSync(dir, { recursive: true });

  const keyFile = (alg) => path.join(dir, `${alg.toLowerCase()}.pem`);
  for (const [alg, params] of [['RS256', ['rsa', { modulusLength: 2048 }]], ['ES256', ['ec', { namedCurve: 'P-256' }]]]) {
    if (!fs.existsSync(keyFile(alg))) {
      const { privateKey } = crypto.generateKeyPairSync(...params);
      fs.writeFileSync(keyFile(alg), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    }
  }
  const jwks = {
    keys: ['RS256', 'ES256'].map((alg) => {
      const pub = crypto.createPublicKey(fs.readFileSync(keyFile(alg)));
      return { ...pub.export({ format: 'jwk' }), kid: `bench-${alg.toLowerCase()}`, alg, use: 'sig' };
    }),
  };
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(jwks));

  const fresh = (f) => fs.existsSync(f) && Date.now() - fs.statSync(f).mtimeMs < 6 * 3600 * 1000;
  const threads = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  for (const alg of ['HS256', 'RS256', 'ES256']) {
    const count = Number(opt[alg.toLowerCase()] || 0);
    const hs = alg === 'HS256';
    if (hs && !opt.secret) {
      if (count) throw new Error('--hs256 needs --secret');
      continue;
    }
    const base = {
      alg,
      kid: hs ? null : `bench-${alg.toLowerCase()}`,
      keyMaterial: hs ? opt.secret : fs.readFileSync(keyFile(alg), 'utf8'),
      iss: hs ? opt.iss : (opt.iss || 'https://issuer.bench.test/'),
      aud: hs ? opt.aud : (opt.aud || 'api://bench'),
    };
    const one = path.join(dir, `${alg.toLowerCase()}-one.txt`);
    if (!fresh(one)) fs.writeFileSync(one, mintRange({ ...base, from: 1_000_000_000, to: 1_000_000_001 })[0] + '\n');
    if (!count) continue;
    const file = path.join(dir, `${alg.toLowerCase()}-${count}.txt`);
    if (fresh(file)) continue;
    const t0 = Date.now();
    const per = Math.ceil(count / threads);
    const parts = await Promise.all(
      Array.from({ length: threads }, (_, t) => new Promise((resolve, reject) => {
        const from = t * per;
        const to = Math.min(count, from + per);
        const w = new Worker(new URL(import.meta.url), { workerData: { ...base, from, to } });
        w.once('message', resolve);
        w.once('error', reject);
      })),
    );
    fs.writeFileSync(file, parts.flat().join('\n') + '\n');
    console.error(`minted ${count} ${alg} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${file}`);
  }
}
