// ddbproxy.js - a DynamoDB proxy for the tests and the bench: forwards
// every DynamoDB request to an endpoint (dynalite) on kept-alive
// connections, counts them, and answers instead of the store, as
// DynamoDB does, when told to: throttling and expired tokens.
//
//   node tests/node/ddbproxy.js PORT TARGET_URL
//
// Prints "listening PORT" once it answers; ends on SIGTERM. Listens on
// 127.0.0.1 only. A DynamoDB request is a POST with an X-Amz-Target
// header; the proxy's own control requests are:
//
//   POST /control  a JSON object of settings, each replacing the last:
//     "throttle": {"every": K, "limit": N}  the first sight of every K-th
//         new request (X-Amz-Target and body; a request sent again is not
//         new) is answered HTTP 400 with DynamoDB's JSON body of a
//         ProvisionedThroughputExceededException or a ThrottlingException
//         (in turn), N in all; {"every": 0} or null: none
//     "expired": ["AKID", ...]  a request signed with one of these access
//         key ids (read from its Authorization header) is answered HTTP
//         400 ExpiredTokenException
//     "tokens": {"AKID": "session token", ...}  requests of a listed key
//         whose X-Amz-Security-Token differs are counted (bad_token)
//     "record": "PATH"  appends "TARGET<TAB>BODY<LF>" to PATH for every
//         request forwarded ("" or null: stop)
//   GET /stats     {"connections" (accepted), "requests", "forwarded",
//                   "by_target": {op: n},
//                   "by_key": {akid: n}, "throttled", "throttled_by_type",
//                   "retried" (throttled requests later sent again and
//                   forwarded), "expired" (ExpiredTokenException answers),
//                   "expired_by_key", "bad_token", "errors"}
//   POST /reset    counts back to 0 (settings kept)
//
// Nothing it reads is logged: the requests carry signatures and tokens.
'use strict'
const http = require('http')
const crypto = require('crypto')
const fs = require('fs')

const port = Number(process.argv[2])
const target = new URL(process.argv[3] || 'http://invalid')
if (!Number.isInteger(port) || port < 0 || port > 65535 || !process.argv[3]) {
  console.error('usage: node ddbproxy.js PORT TARGET_URL')
  process.exit(2)
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
let settings = { throttle: null, expired: [], tokens: {}, record: null }
let stats
let seen           // hashes of the requests seen
let throttledOpen  // hashes of throttled requests not yet forwarded
let newCount       // new requests since the throttle was set
let recordFd = null

function reset () {
  stats = {
    connections: 0, requests: 0, forwarded: 0, by_target: {}, by_key: {}, throttled: 0,
    throttled_by_type: {}, retried: 0, expired: 0, expired_by_key: {},
    bad_token: 0, errors: 0
  }
  seen = new Set()
  throttledOpen = new Set()
  newCount = 0
}
reset()

const FAULTS = {
  ProvisionedThroughputExceededException: {
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was ' +
      'exceeded. Consider increasing your provisioning level with the UpdateTable API.'
  },
  ThrottlingException: {
    __type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.'
  },
  ExpiredTokenException: {
    __type: 'com.amazon.coral.service#ExpiredTokenException',
    message: 'The security token included in the request is expired'
  }
}

function bump (map, key) {
  map[key] = (map[key] || 0) + 1
}

// Answers as DynamoDB does: HTTP 400, its JSON error body.
function fault (res, type) {
  const body = JSON.stringify(FAULTS[type])
  res.writeHead(400, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': crypto.randomBytes(16).toString('hex').toUpperCase()
  })
  res.end(body)
}

function json (res, status, value) {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ..."
function accessKey (auth) {
  const m = /Credential=([^/,\s]+)\//.exec(auth || '')
  return m ? m[1] : ''
}

function control (req, res, body) {
  if (req.method === 'GET' && req.url === '/stats') return json(res, 200, stats)
  if (req.method === 'POST' && req.url === '/reset') {
    reset()
    return json(res, 200, {})
  }
  if (req.method === 'POST' && req.url === '/control') {
    let given
    try {
      given = JSON.parse(body.toString() || '{}')
    } catch (e) {
      return json(res, 400, { error: 'not JSON' })
    }
    if (given === null || typeof given !== 'object') return json(res, 400, { error: 'not an object' })
    if ('throttle' in given) {
      settings.throttle = given.throttle
      newCount = 0
    }
    if ('expired' in given) settings.expired = given.expired || []
    if ('tokens' in given) settings.tokens = given.tokens || {}
    if ('record' in given) {
      if (recordFd !== null) fs.closeSync(recordFd)
      recordFd = given.record ? fs.openSync(given.record, 'a') : null
    }
    return json(res, 200, {})
  }
  json(res, 404, { error: 'no such control request' })
}

// Throttles the first sight of every K-th new request, up to N.
function throttle (hash) {
  const t = settings.throttle
  if (seen.has(hash)) return null
  seen.add(hash)
  if (!t || !(t.every > 0) || stats.throttled >= (t.limit || Infinity)) return null
  newCount++
  if (newCount % t.every !== 0) return null
  return stats.throttled % 2 === 0 ? 'ProvisionedThroughputExceededException'
    : 'ThrottlingException'
}

function forward (req, res, body, op, hash) {
  const headers = Object.assign({}, req.headers)
  headers.host = target.host
  const out = http.request({
    host: target.hostname, port: target.port || 80, path: req.url, method: 'POST',
    headers, agent
  }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers)
    answer.pipe(res)
    stats.forwarded++
    if (throttledOpen.delete(hash)) stats.retried++
  })
  out.on('error', () => {
    stats.errors++
    if (!res.headersSent) json(res, 502, { error: 'store unreachable' })
    else res.destroy()
  })
  out.end(body)
  if (recordFd !== null) fs.writeSync(recordFd, op + '\t' + body.toString() + '\n')
}

function store (req, res, body) {
  const op = String(req.headers['x-amz-target']).replace(/^DynamoDB_\d+\./, '')
  const key = accessKey(req.headers.authorization)
  stats.requests++
  bump(stats.by_target, op)
  bump(stats.by_key, key)
  const token = settings.tokens[key]
  if (token !== undefined && req.headers['x-amz-security-token'] !== token) stats.bad_token++
  if (settings.expired.includes(key)) {
    stats.expired++
    bump(stats.expired_by_key, key)
    return fault(res, 'ExpiredTokenException')
  }
  const hash = crypto.createHash('sha256').update(op).update('\n').update(body).digest('hex')
  const type = throttle(hash)
  if (type) {
    stats.throttled++
    bump(stats.throttled_by_type, type)
    throttledOpen.add(hash)
    return fault(res, type)
  }
  forward(req, res, body, op, hash)
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    if (req.method === 'POST' && req.headers['x-amz-target']) store(req, res, body)
    else control(req, res, body)
  })
})
server.on('connection', () => { stats.connections++ })
server.keepAliveTimeout = 60000
server.listen(port, '127.0.0.1', () => console.log('listening ' + server.address().port))
process.on('SIGTERM', () => process.exit(0))
