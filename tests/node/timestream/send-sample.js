// send-sample.js - a hand-written stand-in for tscache's C Timestream
// backend: sends the fixture the requests the design page
// (docs/timestream.md) says the backend sends, byte for byte as written
// there (its member order, no ClientToken, signed with only host,
// content-type, x-amz-date and x-amz-target, no SDK headers), so that
// sdk-compare.js can be shown to pass on such a log and to fail on a
// broken one before (and besides) the real backend's log.
//
//   node send-sample.js PORT            store init, one put, one read
//   node send-sample.js PORT --broken   requests sdk-compare must refuse
//
// Exits 1 if an answer is not what the fixture should give.
'use strict'
const http = require('http')
const sigv4 = require('./sigv4')
const { rangeSql } = require('./sql')

const port = Number(process.argv[2])
const broken = process.argv[3] === '--broken'
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node send-sample.js PORT [--broken]')
  process.exit(2)
}

const DB = 'TimeSeriesDB'
const TABLE = 'identifierTimeSeriesHistory'

function amzDate (d) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

// POSTs body (a string) as op; returns {status, body (parsed)}.
async function call (op, body, { contentType, badSecret } = {}) {
  const headers = {
    host: `127.0.0.1:${port}`,
    'content-type': contentType || 'application/x-amz-json-1.0',
    'x-amz-date': amzDate(new Date()),
    'x-amz-target': 'Timestream_20181101.' + op
  }
  const signedHeaders = Object.keys(headers).sort()
  const signature = await sigv4.sign({
    method: 'POST',
    url: '/',
    headers,
    body,
    date: sigv4.parseAmzDate(headers['x-amz-date']),
    region: 'us-east-1',
    service: 'timestream',
    accessKeyId: 'AKIDFIXTURE',
    secretAccessKey: badSecret ? 'not-the-secret' : 'fixture-secret',
    signedHeaders
  })
  headers.authorization = 'AWS4-HMAC-SHA256 Credential=AKIDFIXTURE/' +
    headers['x-amz-date'].slice(0, 8) + '/us-east-1/timestream/aws4_request, ' +
    `SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

let bad = 0
function expect (what, answer, status) {
  const ok = answer.status === status
  if (!ok) bad++
  console.log(`${ok ? 'ok' : 'unexpected'}: ${what}: ${answer.status}` +
    (ok ? '' : ' ' + JSON.stringify(answer.body)))
  return answer
}

async function sample () {
  expect('DescribeEndpoints', await call('DescribeEndpoints', '{}'), 200)
  expect('DescribeDatabase (none yet)', await call('DescribeDatabase', `{"DatabaseName":"${DB}"}`), 404)
  expect('CreateDatabase', await call('CreateDatabase', `{"DatabaseName":"${DB}"}`), 200)
  expect('CreateDatabase again', await call('CreateDatabase', `{"DatabaseName":"${DB}"}`), 409)
  expect('DescribeTable (none yet)', await call('DescribeTable',
    `{"DatabaseName":"${DB}","TableName":"${TABLE}"}`), 404)
  expect('CreateTable', await call('CreateTable', `{"DatabaseName":"${DB}","TableName":"${TABLE}",` +
    '"RetentionProperties":{"MemoryStoreRetentionPeriodInHours":720,"MagneticStoreRetentionPeriodInDays":73000},' +
    '"MagneticStoreWriteProperties":{"EnableMagneticStoreWrites":true}}'), 200)
  const t0 = Date.now() - 4 * 3600000
  const version = Date.now() * 1000
  const records = []
  for (let i = 0; i < 150; i++) {
    records.push(`{"MeasureName":"${i % 2 ? 'temp' : 'wind'}","MeasureValue":"${(i * 0.1).toFixed(1).replace(/\.0$/, '')}","Time":"${t0 + i * 60000}"}`)
  }
  records.push('{"MeasureName":"temp","MeasureValue":"-2.5","Time":"-86400000"}')
  records.push(`{"MeasureName":"temp","MeasureValue":"1e-7","Time":"${Date.now() + 3600000}"}`)
  const put = (chunk) => `{"DatabaseName":"${DB}","TableName":"${TABLE}","CommonAttributes":` +
    '{"Dimensions":[{"Name":"identifier","Value":"station-1"}],"MeasureValueType":"DOUBLE",' +
    `"TimeUnit":"MILLISECONDS","Version":${version}},"Records":[${chunk.join(',')}]}`
  expect('WriteRecords 1..100', await call('WriteRecords', put(records.slice(0, 100))), 200)
  expect('WriteRecords 101..152 (one in 1969, one an hour ahead: rejected)', await call('WriteRecords', put(records.slice(100))), 419)
  for (const [measure, limit] of [[undefined, undefined], ['temp', 10]]) {
    const sql = rangeSql({ database: DB, table: TABLE, id: 'station-1', fromMs: t0 - 1, toMs: Date.now(), measure, limit })
    let token = null
    let pages = 0
    do {
      const body = token === null ? JSON.stringify({ QueryString: sql })
        : JSON.stringify({ QueryString: sql, NextToken: token })
      const a = expect(`Query page ${++pages}`, await call('Query', body), 200)
      token = a.body.NextToken === undefined ? null : a.body.NextToken
    } while (token !== null && pages < 20)
  }
}

async function brokenSample () {
  expect('CreateDatabase with a member the API does not have',
    await call('CreateDatabase', '{"DatabaseName":"brokenDB","Bogus":1}'), 200)
  expect('DescribeDatabase as application/json',
    await call('DescribeDatabase', '{"DatabaseName":"brokenDB"}', { contentType: 'application/json' }), 200)
  expect('DescribeDatabase signed with the wrong secret',
    await call('DescribeDatabase', '{"DatabaseName":"brokenDB"}', { badSecret: true }), 403)
}

(broken ? brokenSample() : sample()).then(() => process.exit(bad ? 1 : 0), (e) => {
  console.error(e.stack || e)
  process.exit(1)
})
