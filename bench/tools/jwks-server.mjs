// A JWK Set on loopback that counts its fetches.
//
// Usage: node jwks-server.mjs PORT JWKS_FILE [MAX_AGE_SECONDS=600]
//   GET  /jwks.json (also /.well-known/jwks.json)  the document, Cache-Control: public, max-age=N
//   GET  /hits                                     {"hits": <document fetches since start/reset>}
//   POST /reset                                    sets the counter to 0
import fs from 'node:fs';
import http from 'node:http';

const [port, file, maxAge = '600'] = process.argv.slice(2);
if (!port || !file) {
  console.error('usage: node jwks-server.mjs PORT JWKS_FILE [MAX_AGE_SECONDS]');
  process.exit(2);
}
const doc = fs.readFileSync(file);
let hits = 0;
http
  .createServer((req, res) => {
    const url = req.url.split('?')[0];
    if (req.method === 'GET' && (url === '/jwks.json' || url === '/.well-known/jwks.json')) {
      hits++;
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': `public, max-age=${maxAge}`,
        'content-length': doc.length,
      });
      res.end(doc);
    } else if (url === '/hits') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ hits }));
    } else if (req.method === 'POST' && url === '/reset') {
      hits = 0;
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  })
  .listen(Number(port), '127.0.0.1', () => console.log(`jwks on http://127.0.0.1:${port}/jwks.json max-age=${maxAge}`));
