// sdk-compare.js - checks every request in a fixture log (fixture.js
// --log; in the tests, the requests of tscache's C Timestream backend)
// against the request AWS's JS SDK (@aws-sdk/client-timestream-write
// and -query) sends for the same operation and input.
//
//   node sdk-compare.js LOGFILE       prints PASS:/FAIL: per operation,
//                                     exits 1 on any FAIL
//
// For each logged request the SDK command is rebuilt from the logged JSON
// body (DescribeEndpoints, Create/DescribeDatabase, Create/DescribeTable,
// WriteRecords, Query) and sent through the SDK's client with a request
// handler that keeps the request instead of sending it: same endpoint
// (the logged Host), credentials (AKIDFIXTURE / fixture-secret and the
// logged session token), region (the logged credential scope) and signing
// time (the logged X-Amz-Date, through the client's systemClockOffset).
// Compared: method, path, Host, Content-Type, X-Amz-Target, the JSON body
// (deep-equal), and the Authorization header when the bodies are
// byte-identical, else the logged signature is checked by signing the
// logged request with @smithy/signature-v4 (sigv4.js).
//
// Allowed differences, and why:
// - Query's ClientToken: the SDK fills one itself (an idempotency token)
//   when the input has none; the design lets the backend omit it. The
//   SDK's token is removed from its body before it signs.
// - Headers that only the SDK sends and signs (amz-sdk-invocation-id,
//   amz-sdk-request: its retry bookkeeping; x-amz-user-agent; and
//   x-amz-content-sha256, which SigV4 leaves optional for this service)
//   are not part of the comparison: the SDK signs with exactly the header
//   names the logged request signed (its own values for host,
//   content-type, x-amz-target, content-length, x-amz-date,
//   x-amz-content-sha256; the logged value for any other, e.g. a
//   user-agent or accept header the backend chose to sign), so its
//   Authorization must come out identical.
'use strict'
const fs = require('fs')
const W = require('@aws-sdk/client-timestream-write')
const Q = require('@aws-sdk/client-timestream-query')
const sigv4 = require('./sigv4')

const ACCESS_KEY = 'AKIDFIXTURE'
const SECRET = 'fixture-secret'
const COMMANDS = {
  DescribeEndpoints: [W.TimestreamWriteClient, W.DescribeEndpointsCommand],
  CreateDatabase: [W.TimestreamWriteClient, W.CreateDatabaseCommand],
  DescribeDatabase: [W.TimestreamWriteClient, W.DescribeDatabaseCommand],
  CreateTable: [W.TimestreamWriteClient, W.CreateTableCommand],
  DescribeTable: [W.TimestreamWriteClient, W.DescribeTableCommand],
  WriteRecords: [W.TimestreamWriteClient, W.WriteRecordsCommand],
  Query: [Q.TimestreamQueryClient, Q.QueryCommand]
}
const CAPTURED = Symbol('captured')
// Signed headers whose value the SDK makes itself (compared above, or
// made by its signer from the time, token and body); any other signed
// header gets the logged value.
const OWN_HEADERS = new Set(['host', 'content-type', 'x-amz-target', 'content-length',
  'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'])

// The first difference between a and b as "path: a vs b", or null.
function diff (a, b, path = 'body') {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) ||
      (a === null) !== (b === null)) {
    return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`
  }
  if (a === null || typeof a !== 'object') {
    return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`
  }
  if (Array.isArray(a)) {
    if (a.length !== b.length) return `${path}: ${a.length} items vs ${b.length}`
    for (let i = 0; i < a.length; i++) {
      const d = diff(a[i], b[i], `${path}[${i}]`)
      if (d) return d
    }
    return null
  }
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!(k in a)) return `${path}.${k}: absent vs ${JSON.stringify(b[k])}`
    if (!(k in b)) return `${path}.${k}: ${JSON.stringify(a[k])} vs absent (the SDK does not send it)`
    const d = diff(a[k], b[k], `${path}.${k}`)
    if (d) return d
  }
  return null
}

// Sends input through the SDK as the logged request was sent; returns
// {request (the SDK's, as it would go on the wire), body (the SDK's body
// before the allowed ClientToken removal)}.
async function sdkRequest (entry, input, auth) {
  const [Client, Command] = COMMANDS[entry.op]
  const h = entry.headers
  const date = sigv4.parseAmzDate(h['x-amz-date'])
  const host = h.host || ''
  const keepClientToken = entry.op !== 'Query' || 'ClientToken' in input
  const signed = new Set(auth.signedHeaders)
  const client = new Client({
    endpoint: (/:\d+$/.test(host) ? 'http://' : 'https://') + host,
    region: auth.region,
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: SECRET,
      sessionToken: h['x-amz-security-token']
    },
    // The middle of the logged second: signing happens within a few ms.
    systemClockOffset: date.getTime() + 500 - Date.now(),
    applyChecksum: signed.has('x-amz-content-sha256'),
    maxAttempts: 1,
    requestHandler: {
      handle: async (request) => {
        const e = new Error('captured')
        e[CAPTURED] = request
        throw e
      }
    }
  })
  let sdkBody
  client.middlewareStack.addRelativeTo((next) => async (args) => {
    const req = args.request
    // The SDK's serializer gives bytes (a Uint8Array) or a string.
    if (req.body instanceof Uint8Array) {
      req.body = Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength).toString('utf8')
    }
    sdkBody = req.body
    if (!keepClientToken) {
      const parsed = JSON.parse(req.body)
      delete parsed.ClientToken
      req.body = JSON.stringify(parsed)
      req.headers['content-length'] = String(Buffer.byteLength(req.body))
    }
    for (const name of Object.keys(req.headers)) {
      if (!signed.has(name.toLowerCase())) delete req.headers[name]
    }
    for (const name of signed) {
      if (!OWN_HEADERS.has(name) && h[name] !== undefined) req.headers[name] = h[name]
    }
    // Set again just before the signer reads it, so that a slow machine
    // does not carry the signing time into the next second.
    client.config.systemClockOffset = date.getTime() + 500 - Date.now()
    return next(args)
  }, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'tscacheCompare' })
  try {
    await client.send(new Command(input))
  } catch (e) {
    if (e[CAPTURED]) return { request: e[CAPTURED], body: sdkBody }
    throw e
  }
  throw new Error('the SDK sent nothing')
}

// Compares one log entry; returns {problems: [...], identical: bool}.
async function compare (entry) {
  const problems = []
  const h = entry.headers || {}
  const auth = sigv4.parseAuthorization(h.authorization)
  if (!auth) return { problems: ['no SigV4 Authorization header'], identical: false }
  if (auth.accessKeyId !== ACCESS_KEY) {
    return { problems: [`signed with ${auth.accessKeyId}, not the fixture's ${ACCESS_KEY}`], identical: false }
  }
  if (!sigv4.parseAmzDate(h['x-amz-date'])) {
    return { problems: ['no valid X-Amz-Date'], identical: false }
  }
  let input
  try {
    input = entry.body === '' ? {} : JSON.parse(entry.body)
  } catch (e) {
    return { problems: ['body is not JSON: ' + e.message], identical: false }
  }
  const { request, body } = await sdkRequest(entry, input, auth)
  const sh = {}
  for (const [k, v] of Object.entries(request.headers)) sh[k.toLowerCase()] = v
  if (entry.method !== request.method) problems.push(`method ${entry.method} vs the SDK's ${request.method}`)
  if (entry.path !== request.path) problems.push(`path ${entry.path} vs the SDK's ${request.path}`)
  for (const name of ['host', 'content-type', 'x-amz-target']) {
    if (h[name] !== sh[name]) problems.push(`${name}: ${JSON.stringify(h[name])} vs the SDK's ${JSON.stringify(sh[name])}`)
  }
  const sdkParsed = JSON.parse(body)
  if (!('ClientToken' in input)) delete sdkParsed.ClientToken
  const d = diff(input, sdkParsed)
  if (d) problems.push('JSON body differs: ' + d + ' (backend vs SDK)')
  const identical = entry.body === request.body
  if (identical) {
    if (h.authorization !== sh.authorization) {
      problems.push(`Authorization differs for the same body:\n    backend: ${h.authorization}\n    SDK:     ${sh.authorization}`)
    }
  } else {
    const v = await sigv4.verify({
      method: entry.method,
      url: entry.path,
      headers: h,
      body: entry.body,
      service: 'timestream',
      secrets: { [ACCESS_KEY]: SECRET }
    })
    if (!v.ok) problems.push(`signature: ${v.type}: ${v.message}`)
  }
  return { problems, identical }
}

async function main () {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node sdk-compare.js LOGFILE')
    process.exit(2)
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim())
  const kinds = {}
  let failed = lines.length === 0
  if (failed) console.log(`FAIL: ${file} holds no request`)
  for (let i = 0; i < lines.length; i++) {
    let entry
    try {
      entry = JSON.parse(lines[i])
    } catch (e) {
      console.log(`FAIL: log line ${i + 1} is not JSON`)
      failed = true
      continue
    }
    const k = kinds[entry.op] || (kinds[entry.op] = { n: 0, identical: 0, bad: [] })
    k.n++
    if (!(entry.op in COMMANDS)) {
      k.bad.push(`line ${i + 1}: an operation the backend must not send (X-Amz-Target ${JSON.stringify(entry.headers && entry.headers['x-amz-target'])})`)
      continue
    }
    const { problems, identical } = await compare(entry)
    if (identical) k.identical++
    if (problems.length) k.bad.push(`line ${i + 1}: ` + problems.join('; '))
  }
  for (const [op, k] of Object.entries(kinds)) {
    if (k.bad.length) {
      failed = true
      console.log(`FAIL: ${op}: ${k.bad.length} of ${k.n} request(s) differ from the SDK's`)
      for (const b of k.bad.slice(0, 5)) console.log('  ' + b)
    } else {
      console.log(`PASS: ${op}: ${k.n} request(s) as the SDK sends them (method, path, Host, ` +
        `Content-Type, X-Amz-Target, JSON body); ${k.identical} byte-identical with an ` +
        `identical Authorization, ${k.n - k.identical} signature-checked on the logged body`)
    }
  }
  process.exit(failed ? 1 : 0)
}

main().catch((e) => {
  console.error(e.stack || e)
  process.exit(1)
})
