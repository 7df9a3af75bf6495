// fixture.js - a loopback stand-in for Amazon Timestream for
// LiveAnalytics (Write and Query on one port), for tscache's tests: Debian
// and npm have no local Timestream. AWS JSON 1.0 over HTTP on 127.0.0.1
// (or --host ADDR, a test's own numeric address, which DescribeEndpoints
// then names).
//
//   node fixture.js PORT [--host ADDR] [--log FILE] [--page-rows N] [--cache-minutes N]
//
// PORT 0 takes a free port. Prints "listening PORT" once it answers; ends
// at once on SIGTERM. In memory. Every request must be SigV4-signed for
// the signing name "timestream" with the access key AKIDFIXTURE and the
// secret fixture-secret (any session token): anything else is answered
// 403 as AWS does. The operations and their rules are in ops.js and
// store.js; README.md says what is and is not emulated.
//
// Control, unsigned, for tests only:
//   POST /fixture/throttle {"op": OP, "count": N}   the next N calls of OP
//                                                    answer ThrottlingException
//   POST /fixture/fail {"op": OP|"*", "count": N, "error": E}  the same with E:
//        ThrottlingException, InternalServerException, InvalidEndpointException
//   GET  /fixture/records    every stored record (JSON list)
//   GET  /fixture/counts?dimension=NAME  records per value of dimension NAME
//                                        (JSON object: value -> count)
//   GET  /fixture/requests   requests received per op (JSON object)
// With --log FILE every AWS request received is appended to FILE as one
// JSON line {"op", "method", "path", "headers" (lower-case names),
// "body" (text), "status" (of the answer)}.
'use strict'
const crypto = require('crypto')
const fs = require('fs')
const http = require('http')
const net = require('net')
const { Store } = require('./store')
const { Ops } = require('./ops')
const sigv4 = require('./sigv4')

const TARGET_PREFIX = 'Timestream_20181101.'
const SECRETS = { AKIDFIXTURE: 'fixture-secret' }
const MAX_BODY = 16 * 1024 * 1024
const MAX_SKEW_MS = 15 * 60 * 1000
const CORAL_NS = 'com.amazon.coral.service'

function usage (why) {
  console.error('fixture.js: ' + why)
  console.error('usage: node fixture.js PORT [--host ADDR] [--log FILE] [--page-rows N] [--cache-minutes N]')
  process.exit(2)
}

function parseArgs (argv) {
  const opts = { port: Number(argv[0]), host: '127.0.0.1', pageRows: 1000, cacheMinutes: 1440 }
  if (argv.length < 1 || !Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    usage('PORT must be 0..65535')
  }
  for (let i = 1; i < argv.length; i += 2) {
    const v = argv[i + 1]
    if (v === undefined) usage(argv[i] + ' needs a value')
    if (argv[i] === '--log') opts.log = v
    else if (argv[i] === '--host') {
      if (!net.isIP(v)) usage('--host needs a numeric address')
      opts.host = v
    }
    else if (argv[i] === '--page-rows' || argv[i] === '--cache-minutes') {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 1 || n > 1000000) usage(argv[i] + ' must be a positive integer')
      if (argv[i] === '--page-rows') opts.pageRows = n
      else opts.cacheMinutes = n
    } else usage('unknown option ' + argv[i])
  }
  return opts
}

function send (res, status, body, type) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': type || 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': crypto.randomUUID(),
    Date: new Date().toUTCString()
  })
  res.end(text)
}

class Fixture {
  constructor (opts) {
    this.opts = opts
    this.store = new Store()
    this.ops = null // made once the port is known (DescribeEndpoints names it)
    this.received = {}
    if (opts.log) fs.writeFileSync(opts.log, '', { flag: 'a' })
  }

  s_log (op, req, body, status) {
    if (!this.opts.log) return
    const line = JSON.stringify({
      op, method: req.method, path: req.url, headers: req.headers, body, status
    })
    fs.appendFileSync(this.opts.log, line + '\n')
  }

  async s_aws (req, res, body) {
    const target = req.headers['x-amz-target'] || ''
    const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : ''
    this.received[op || target] = (this.received[op || target] || 0) + 1
    let status
    let answer
    const auth = await sigv4.verify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body,
      service: 'timestream',
      secrets: SECRETS,
      now: Date.now(),
      maxSkewMs: MAX_SKEW_MS
    })
    if (!auth.ok) {
      status = auth.status
      answer = { __type: CORAL_NS + '#' + auth.type, message: auth.message }
    } else if (req.method !== 'POST' || req.url !== '/') {
      status = 404
      answer = { __type: CORAL_NS + '#UnknownOperationException' }
    } else if (!op) {
      status = 400
      answer = { __type: CORAL_NS + '#UnknownOperationException' }
    } else {
      this.store.region = auth.region
      ;({ status, body: answer } = this.ops.handle(op, body))
    }
    this.s_log(op || target, req, body, status)
    send(res, status, answer)
  }

  s_control (req, res, body) {
    const path = req.url.replace(/\?.*$/, '')
    const json = (status, v) => send(res, status, v, 'application/json')
    try {
      if (req.method === 'GET' && path === '/fixture/records') return json(200, this.store.dump())
      if (req.method === 'GET' && path === '/fixture/requests') return json(200, this.received)
      if (req.method === 'GET' && path === '/fixture/counts') {
        const name = new URL(req.url, 'http://fixture').searchParams.get('dimension')
        const counts = {}
        for (const r of this.store.dump()) {
          for (const d of r.dimensions) {
            if (d.Name === name) counts[d.Value] = (counts[d.Value] || 0) + 1
          }
        }
        return json(200, counts)
      }
      if (req.method === 'POST' && (path === '/fixture/throttle' || path === '/fixture/fail')) {
        const a = JSON.parse(body || '{}')
        const error = path === '/fixture/throttle' ? 'ThrottlingException' : a.error
        this.ops.inject(a.op, error, a.count)
        return json(200, { ok: true })
      }
      return json(404, { error: `no control ${req.method} ${path}` })
    } catch (e) {
      return json(400, { error: e.message })
    }
  }

  listen () {
    const server = http.createServer((req, res) => {
      const chunks = []
      let size = 0
      req.on('data', (c) => {
        size += c.length
        if (size <= MAX_BODY) chunks.push(c)
      })
      req.on('end', () => {
        if (size > MAX_BODY) {
          return send(res, 413, { __type: CORAL_NS + '#SerializationException', message: 'Request too large' })
        }
        const body = Buffer.concat(chunks).toString('utf8')
        const handler = req.url.startsWith('/fixture/')
          ? Promise.resolve(this.s_control(req, res, body))
          : this.s_aws(req, res, body)
        handler.catch((e) => {
          console.error('fixture.js: ' + (e.stack || e))
          send(res, 500, { __type: 'com.amazonaws.timestream.v20181101#InternalServerException', message: 'fixture error: ' + e.message })
        })
      })
    })
    server.keepAliveTimeout = 30000
    server.listen(this.opts.port, this.opts.host, () => {
      const port = server.address().port
      this.ops = new Ops({
        store: this.store,
        address: net.isIPv6(this.opts.host) ? `[${this.opts.host}]:${port}` : `${this.opts.host}:${port}`,
        pageRows: this.opts.pageRows,
        cacheMinutes: this.opts.cacheMinutes
      })
      console.log('listening ' + port)
    })
    server.on('error', (e) => {
      console.error('fixture.js: ' + e.message)
      process.exit(1)
    })
  }
}

if (require.main === module) {
  new Fixture(parseArgs(process.argv.slice(2))).listen()
  // Exits at once: clients that keep connections open must not hold it up.
  process.on('SIGTERM', () => process.exit(0))
}

module.exports = { Fixture }
