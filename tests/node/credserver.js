// credserver.js - a container credentials endpoint for the tests, as the
// ECS and EKS agents serve one (AWS_CONTAINER_CREDENTIALS_FULL_URI with
// AWS_CONTAINER_AUTHORIZATION_TOKEN): hands out temporary credentials
// with an Expiration, and the next set once told to rotate.
//
//   CREDSERVER_TOKEN=... node tests/node/credserver.js PORT
//
// The authorization token comes from the environment (not the command
// line, which any user of the machine can read). Prints "listening PORT"
// once it answers; ends on SIGTERM. Listens on 127.0.0.1 only. Every
// request must carry "Authorization: TOKEN" (else 401, counted):
//
//   GET /creds     the current credentials: {"AccessKeyId",
//                  "SecretAccessKey", "Token", "Expiration" (ISO 8601),
//                  "RoleArn"}; 404 before any are set
//   POST /control  {"keys": [{"AccessKeyId", "SecretAccessKey", "Token",
//                  "Expiration"}, ...]}: the sets to hand out, the first
//                  current; {"rotate": true}: the next set becomes current
//   GET /stats     {"fetches": {akid: n}, "unauthorized": n, "current": akid}
//
// Nothing it reads or hands out is logged.
'use strict'
const http = require('http')
const crypto = require('crypto')

const port = Number(process.argv[2])
const token = process.env.CREDSERVER_TOKEN || ''
if (!Number.isInteger(port) || port < 0 || port > 65535 || !token) {
  console.error('usage: CREDSERVER_TOKEN=TOKEN node credserver.js PORT')
  process.exit(2)
}

let keys = []
let current = 0
const stats = { fetches: {}, unauthorized: 0 }

function json (res, status, value) {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

function authorized (req) {
  const given = Buffer.from(String(req.headers.authorization || ''))
  const want = Buffer.from(token)
  return given.length === want.length && crypto.timingSafeEqual(given, want)
}

function control (res, body) {
  let given
  try {
    given = JSON.parse(body || '{}')
  } catch (e) {
    return json(res, 400, { error: 'not JSON' })
  }
  if (given && Array.isArray(given.keys)) {
    keys = given.keys
    current = 0
  }
  if (given && given.rotate && current + 1 < keys.length) current++
  json(res, 200, { current: keys.length ? keys[current].AccessKeyId : null })
}

const server = http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    if (!authorized(req)) {
      stats.unauthorized++
      return json(res, 401, { error: 'unauthorized' })
    }
    if (req.method === 'GET' && req.url === '/creds') {
      if (!keys.length) return json(res, 404, { error: 'no credentials set' })
      const k = keys[current]
      stats.fetches[k.AccessKeyId] = (stats.fetches[k.AccessKeyId] || 0) + 1
      return json(res, 200, Object.assign({
        RoleArn: 'arn:aws:iam::123456789012:role/tscache-test'
      }, k))
    }
    if (req.method === 'POST' && req.url === '/control') return control(res, body)
    if (req.method === 'GET' && req.url === '/stats') {
      return json(res, 200, Object.assign({
        current: keys.length ? keys[current].AccessKeyId : null
      }, stats))
    }
    json(res, 404, { error: 'no such request' })
  })
})
server.listen(port, '127.0.0.1', () => console.log('listening ' + server.address().port))
process.on('SIGTERM', () => process.exit(0))
