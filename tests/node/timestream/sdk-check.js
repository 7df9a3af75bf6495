// sdk-check.js - AWS's JS SDK (@aws-sdk/client-timestream-write and
// -query) against a running fixture.js: every answer the fixture gives
// the backend must be one the SDK parses without error into what the
// service means (the right exception class, members and types).
//
//   node sdk-check.js PORT     (the fixture started with --page-rows 10)
//
// Prints "PASS: name" or "FAIL: name" per check; exits 1 if any failed.
// Credentials AKIDFIXTURE / fixture-secret, region us-east-1.
'use strict'
const W = require('@aws-sdk/client-timestream-write')
const Q = require('@aws-sdk/client-timestream-query')
const { NodeHttpHandler } = require('@smithy/node-http-handler')
const http = require('http')
const sql = require('./sql')

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node sdk-check.js PORT')
  process.exit(2)
}
const ENDPOINT = `http://127.0.0.1:${port}`
const CREDENTIALS = { accessKeyId: 'AKIDFIXTURE', secretAccessKey: 'fixture-secret' }
const BASE = { region: 'us-east-1', credentials: CREDENTIALS, endpoint: ENDPOINT }
const DB = 'sdkCheckDB'
const TABLE = 'sdkCheckTable'
const PAGE_ROWS = 10
let failures = 0

function check (ok, name, detail) {
  console.log((ok ? 'PASS: ' : 'FAIL: ') + name)
  if (!ok) {
    failures++
    if (detail !== undefined) console.log('  ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)))
  }
}

// Runs fn, which must throw an instance of Class (or an error named
// name) with the HTTP status; returns the error.
async function expectError (name, fn, Class, status, extra) {
  try {
    const out = await fn()
    check(false, name, 'no error; answer ' + JSON.stringify(out))
  } catch (e) {
    const ok = (Class ? e instanceof Class : true) && e.name === (Class ? Class.name : extra) &&
      e.$metadata && e.$metadata.httpStatusCode === status && typeof e.message === 'string' &&
      e.message.length > 0
    check(ok, name, `${e.name} (${e.$metadata && e.$metadata.httpStatusCode}): ${e.message}`)
    return e
  }
}

function control (method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())))
    })
    req.on('error', reject)
    req.end(body ? JSON.stringify(body) : undefined)
  })
}

function rangeSql (id, fromMs, toMs, measure) {
  return sql.rangeSql({ database: DB, table: TABLE, id, fromMs, toMs, measure: measure || undefined })
}

// A request handler that sends every request to the fixture whatever
// host the SDK chose, keeping its Host header; remembers the hosts.
function redirecting (seen) {
  const inner = new NodeHttpHandler()
  return {
    handle (request, options) {
      seen.push({ host: request.headers.host || request.headers.Host, target: request.headers['x-amz-target'], hostname: request.hostname })
      request.protocol = 'http:'
      request.hostname = '127.0.0.1'
      request.port = port
      return inner.handle(request, options)
    },
    updateHttpClientConfig () {},
    httpHandlerConfigs () { return {} }
  }
}

async function checkDiscovery () {
  // With an endpoint given the SDK sends no DescribeEndpoints, and refuses
  // to be told to.
  try {
    const c = new W.TimestreamWriteClient(Object.assign({ endpointDiscoveryEnabled: true }, BASE))
    await c.send(new W.DescribeDatabaseCommand({ DatabaseName: DB }))
    check(false, 'the SDK refuses endpoint discovery against a custom endpoint', 'it sent the call')
  } catch (e) {
    check(/Custom endpoint is supplied; endpointDiscoveryEnabled must not be true/.test(e.message),
      'the SDK refuses endpoint discovery against a custom endpoint (so it is checked without one)', e.message)
  }
  for (const [Client, Command, regional, op] of [
    [W.TimestreamWriteClient, W.DescribeDatabaseCommand, 'ingest.timestream.us-east-1.amazonaws.com', 'DescribeDatabase'],
    [Q.TimestreamQueryClient, Q.QueryCommand, 'query.timestream.us-east-1.amazonaws.com', 'Query']]) {
    const seen = []
    const client = new Client({ region: 'us-east-1', credentials: CREDENTIALS, requestHandler: redirecting(seen) })
    const input = op === 'Query' ? { QueryString: 'SELECT * FROM "fixture"."scalar_types"' } : { DatabaseName: DB }
    try {
      await client.send(new Command(input))
      check(seen.length === 2 && seen[0].target === 'Timestream_20181101.DescribeEndpoints' &&
        seen[0].host === regional && seen[1].target === 'Timestream_20181101.' + op &&
        seen[1].hostname === `127.0.0.1:${port}`,
      `the SDK's own endpoint discovery: DescribeEndpoints to ${regional}, then ${op} to the discovered Address`, seen)
    } catch (e) {
      check(false, `the SDK's own endpoint discovery for ${op}`, `${e.name}: ${e.message} ${JSON.stringify(seen)}`)
    }
  }
}

async function main () {
  const w = new W.TimestreamWriteClient(BASE)
  const q = new Q.TimestreamQueryClient(BASE)

  for (const [name, client, Command] of [['Write', w, W.DescribeEndpointsCommand], ['Query', q, Q.DescribeEndpointsCommand]]) {
    const out = await client.send(new Command({}))
    check(Array.isArray(out.Endpoints) && out.Endpoints.length === 1 &&
      out.Endpoints[0].Address === `127.0.0.1:${port}` && out.Endpoints[0].CachePeriodInMinutes === 1440,
    `DescribeEndpoints (${name} SDK): Endpoints[0] Address 127.0.0.1:${port}, CachePeriodInMinutes 1440`, out.Endpoints)
  }

  await expectError('DescribeDatabase of a missing database: ResourceNotFoundException 404',
    () => w.send(new W.DescribeDatabaseCommand({ DatabaseName: DB })), W.ResourceNotFoundException, 404)
  const db = await w.send(new W.CreateDatabaseCommand({ DatabaseName: DB }))
  check(db.Database.DatabaseName === DB && db.Database.CreationTime instanceof Date &&
    db.Database.Arn.endsWith(':database/' + DB) && db.Database.TableCount === 0,
  'CreateDatabase: Database with Arn, TableCount and CreationTime as a Date', db.Database)
  await expectError('CreateDatabase of an existing one: ConflictException 409',
    () => w.send(new W.CreateDatabaseCommand({ DatabaseName: DB })), W.ConflictException, 409)
  const retention = { MemoryStoreRetentionPeriodInHours: 720, MagneticStoreRetentionPeriodInDays: 730 }
  await w.send(new W.CreateTableCommand({
    DatabaseName: DB,
    TableName: TABLE,
    RetentionProperties: retention,
    MagneticStoreWriteProperties: { EnableMagneticStoreWrites: true }
  }))
  const t = (await w.send(new W.DescribeTableCommand({ DatabaseName: DB, TableName: TABLE }))).Table
  check(t.TableStatus === 'ACTIVE' && t.RetentionProperties.MemoryStoreRetentionPeriodInHours === 720 &&
    t.RetentionProperties.MagneticStoreRetentionPeriodInDays === 730 &&
    t.MagneticStoreWriteProperties.EnableMagneticStoreWrites === true && t.LastUpdatedTime instanceof Date,
  'CreateTable then DescribeTable: ACTIVE, retention and magnetic writes as created', t)
  await expectError('CreateTable of an existing one: ConflictException 409',
    () => w.send(new W.CreateTableCommand({ DatabaseName: DB, TableName: TABLE })), W.ConflictException, 409)
  await expectError('DescribeTable of a missing table: ResourceNotFoundException 404',
    () => w.send(new W.DescribeTableCommand({ DatabaseName: DB, TableName: 'noSuchTable' })), W.ResourceNotFoundException, 404)

  // Writes: 25 DOUBLE points of one id, a VARCHAR number and a VARCHAR
  // word (read back as a number and as NullValue), one an hour ago.
  const now = Date.now()
  const t0 = now - 3600000
  const common = (version) => ({
    Dimensions: [{ Name: 'identifier', Value: "o'brien" }],
    MeasureValueType: 'DOUBLE',
    TimeUnit: 'MILLISECONDS',
    Version: version
  })
  const records = []
  for (let i = 0; i < 25; i++) records.push({ MeasureName: i % 2 ? 'b' : 'a', MeasureValue: String(i + 0.5), Time: String(t0 + i * 1000) })
  records.push({ MeasureName: 'c', MeasureValue: '2.5e3', MeasureValueType: 'VARCHAR', Time: String(t0 + 30000) })
  records.push({ MeasureName: 'c', MeasureValue: 'n/a', MeasureValueType: 'VARCHAR', Time: String(t0 + 31000) })
  const ok = await w.send(new W.WriteRecordsCommand({ DatabaseName: DB, TableName: TABLE, CommonAttributes: common(100), Records: records }))
  check(ok.RecordsIngested && ok.RecordsIngested.Total === 27 && ok.RecordsIngested.MemoryStore === 27 &&
    ok.RecordsIngested.MagneticStore === 0, 'WriteRecords accepted: RecordsIngested Total/MemoryStore/MagneticStore', ok.RecordsIngested)
  await expectError('WriteRecords of 101 records: ValidationException 400',
    () => w.send(new W.WriteRecordsCommand({ DatabaseName: DB, TableName: TABLE, CommonAttributes: common(100), Records: records.concat(records, records, records).slice(0, 101) })),
    W.ValidationException, 400)
  const e = await expectError('WriteRecords with rejected records: RejectedRecordsException 419',
    () => w.send(new W.WriteRecordsCommand({
      DatabaseName: DB,
      TableName: TABLE,
      CommonAttributes: common(50),
      Records: [
        { MeasureName: 'a', MeasureValue: '99', Time: String(t0) }, // lower version, other value
        { MeasureName: 'a', MeasureValue: '0.5', Time: String(t0) }, // lower version, same value: fine
        { MeasureName: 'a', MeasureValue: '1', Time: String(now + 3600000) }, // an hour ahead
        { MeasureName: 'a', MeasureValue: '7', Time: String(t0 - 1000), Version: 100 }, // new: written
        { MeasureName: 'a', MeasureValue: '8', Time: String(t0 - 1000), Version: 100 }, // its duplicate
        { MeasureName: 'a', MeasureValue: '0.5', Time: String(t0 + 500) } // new: written
      ]
    })), W.RejectedRecordsException, 419)
  const rr = e && e.RejectedRecords
  check(Array.isArray(rr) && rr.length === 3 &&
    rr[0].RecordIndex === 0 && rr[0].ExistingVersion === 100 && /lower than the existing version 100/.test(rr[0].Reason) &&
    rr[1].RecordIndex === 2 && rr[1].ExistingVersion === undefined && /outside the time range/.test(rr[1].Reason) &&
    rr[2].RecordIndex === 4 && rr[2].ExistingVersion === undefined && /same time, dimensions, measure name, and record version/.test(rr[2].Reason),
  'RejectedRecords[]: RecordIndex, Reason, and ExistingVersion (a number) where a higher version exists', rr)

  // A table without magnetic writes takes only its memory store's window.
  const mem = { DatabaseName: DB, TableName: 'memoryOnly' }
  await w.send(new W.CreateTableCommand(Object.assign({
    RetentionProperties: { MemoryStoreRetentionPeriodInHours: 1, MagneticStoreRetentionPeriodInDays: 1 }
  }, mem)))
  const mt = (await w.send(new W.DescribeTableCommand(mem))).Table
  check(mt.MagneticStoreWriteProperties.EnableMagneticStoreWrites === false,
    'CreateTable without MagneticStoreWriteProperties: magnetic writes off', mt)
  const me = await expectError('WriteRecords older than a memory-only table\'s retention: RejectedRecordsException 419',
    () => w.send(new W.WriteRecordsCommand(Object.assign({
      CommonAttributes: common(1),
      Records: [{ MeasureName: 'a', MeasureValue: '1', Time: String(now - 2 * 3600000) },
        { MeasureName: 'a', MeasureValue: '1', Time: String(now - 60000) }]
    }, mem))), W.RejectedRecordsException, 419)
  check(me && me.RejectedRecords.length === 1 && me.RejectedRecords[0].RecordIndex === 0 &&
    /^The record timestamp is outside the time range \[\S+Z, \S+Z\) of the memory store\.$/.test(me.RejectedRecords[0].Reason),
  'the reason names the memory store\'s time range', me && me.RejectedRecords)
  const mag = await w.send(new W.WriteRecordsCommand({
    DatabaseName: DB,
    TableName: TABLE,
    CommonAttributes: common(1),
    Records: [{ MeasureName: 'old', MeasureValue: '1', Time: String(Math.floor(now / 1000) - 1000 * 3600), TimeUnit: 'SECONDS' }]
  }))
  check(mag.RecordsIngested.MagneticStore === 1 && mag.RecordsIngested.Total === 1,
    'a record older than the memory store (TimeUnit SECONDS) goes to the magnetic store', mag.RecordsIngested)
  await expectError('WriteRecords with a Time that is not an integer: ValidationException 400',
    () => w.send(new W.WriteRecordsCommand({ DatabaseName: DB, TableName: TABLE, CommonAttributes: common(1), Records: [{ MeasureName: 'a', MeasureValue: '1', Time: '12.5' }] })),
    W.ValidationException, 400)
  await expectError('WriteRecords whose record repeats a common dimension: ValidationException 400',
    () => w.send(new W.WriteRecordsCommand({
      DatabaseName: DB,
      TableName: TABLE,
      CommonAttributes: common(1),
      Records: [{ MeasureName: 'a', MeasureValue: '1', Time: String(now), Dimensions: [{ Name: 'identifier', Value: 'x' }] }]
    })), W.ValidationException, 400)

  // Throttling: answered after the SDK's own retries, or at once with maxAttempts 1.
  await control('POST', '/fixture/throttle', { op: 'DescribeDatabase', count: 1 })
  const w1 = new W.TimestreamWriteClient(Object.assign({ maxAttempts: 1 }, BASE))
  await expectError('ThrottlingException 400 with maxAttempts 1',
    () => w1.send(new W.DescribeDatabaseCommand({ DatabaseName: DB })), W.ThrottlingException, 400)
  await control('POST', '/fixture/throttle', { op: 'DescribeDatabase', count: 2 })
  const retried = await w.send(new W.DescribeDatabaseCommand({ DatabaseName: DB }))
  check(retried.$metadata.attempts === 3 && retried.Database.DatabaseName === DB,
    'two ThrottlingExceptions are retried by the SDK (3 attempts) and the third answers', retried.$metadata)
  await control('POST', '/fixture/throttle', { op: 'DescribeDatabase', count: 3 })
  const te = await expectError('ThrottlingException once the SDK\'s 3 attempts are spent',
    () => w.send(new W.DescribeDatabaseCommand({ DatabaseName: DB })), W.ThrottlingException, 400)
  check(te && te.$metadata.attempts === 3, 'the SDK made 3 attempts before it gave up', te && te.$metadata)
  await control('POST', '/fixture/fail', { op: 'WriteRecords', count: 1, error: 'InvalidEndpointException' })
  await expectError('InvalidEndpointException 421', () => w1.send(new W.WriteRecordsCommand({
    DatabaseName: DB, TableName: TABLE, CommonAttributes: common(200), Records: records.slice(0, 1)
  })), W.InvalidEndpointException, 421)
  await control('POST', '/fixture/fail', { op: 'Query', count: 1, error: 'InternalServerException' })
  const q1 = new Q.TimestreamQueryClient(Object.assign({ maxAttempts: 1 }, BASE))
  await expectError('InternalServerException 500', () => q1.send(new Q.QueryCommand({ QueryString: 'SELECT * FROM "fixture"."scalar_types"' })),
    Q.InternalServerException, 500)

  // Query pages.
  const rangeText = rangeSql("o'brien", t0 - 1000, now)
  const pages = []
  for await (const page of Q.paginateQuery({ client: q }, { QueryString: rangeText })) pages.push(page)
  const rows = [].concat(...pages.map((p) => p.Rows))
  const cols = pages[0].ColumnInfo.map((c) => c.Name + ':' + c.Type.ScalarType).join(',')
  check(pages[0].Rows.length === 0 && pages[0].NextToken && pages.length === 4 &&
    pages.slice(1, 3).every((p) => p.Rows.length === PAGE_ROWS && p.NextToken) && !pages[3].NextToken,
  'Query paging: an empty first page with a NextToken, then pages of --page-rows rows, the last without NextToken',
  pages.map((p) => [p.Rows.length, !!p.NextToken]))
  check(cols === 'measure_name:VARCHAR,time_ms:BIGINT,value:DOUBLE' && pages.every((p) => p.QueryId === pages[0].QueryId) &&
    pages[pages.length - 1].QueryStatus.ProgressPercentage === 100,
  'Query: ColumnInfo measure_name VARCHAR, time_ms BIGINT, value DOUBLE; one QueryId; QueryStatus', [cols, pages[pages.length - 1].QueryStatus])
  const got = rows.map((r) => r.Data.map((d) => (d.NullValue ? null : d.ScalarValue)))
  const want = [['a', String(t0 - 1000), '7.0'], ['a', String(t0), '0.5'], ['a', String(t0 + 500), '0.5']]
  for (let i = 1; i < 25; i++) want.push([i % 2 ? 'b' : 'a', String(t0 + i * 1000), String(i + 0.5)])
  want.push(['c', String(t0 + 30000), '2500.0'], ['c', String(t0 + 31000), null])
  check(JSON.stringify(got) === JSON.stringify(want),
    'Query rows: ORDER BY time, measure_name; written, upserted and rejected records as the rules say; VARCHAR cast or NullValue',
    { got: got.slice(0, 6), want: want.slice(0, 6) })
  const small = []
  let token
  do {
    const p = await q.send(new Q.QueryCommand({ QueryString: rangeSql("o'brien", t0 - 1000, now, 'b'), NextToken: token, MaxRows: 3 }))
    small.push(p.Rows.length)
    token = p.NextToken
  } while (token)
  check(JSON.stringify(small) === '[0,3,3,3,3]', 'Query MaxRows 3 with a measure_name filter: pages of at most 3 rows', small)
  await expectError('Query of SQL outside the backend\'s shape: ValidationException 400',
    () => q.send(new Q.QueryCommand({ QueryString: 'SELECT * FROM "' + DB + '"."' + TABLE + '"' })), Q.ValidationException, 400)
  await expectError('Query with a NextToken of another query: ValidationException 400',
    () => q.send(new Q.QueryCommand({ QueryString: rangeSql("o'brien", t0 - 1000, now, 'b'), NextToken: pages[1].NextToken })),
    Q.ValidationException, 400)
  await expectError('Query with an unknown NextToken: ValidationException 400',
    () => q.send(new Q.QueryCommand({ QueryString: rangeText, NextToken: 'bm90IGEgdG9rZW4=' })),
    Q.ValidationException, 400)
  await expectError('Query of a missing table: ValidationException 400',
    () => q.send(new Q.QueryCommand({ QueryString: rangeText.replace(`"${TABLE}"`, '"noSuchTable"') })), Q.ValidationException, 400)

  // Every scalar type, a row per page, NullValue in the other columns.
  const typePages = []
  for await (const page of Q.paginateQuery({ client: q }, { QueryString: 'SELECT * FROM "fixture"."scalar_types"' })) typePages.push(page)
  const types = typePages[0].ColumnInfo.map((c) => c.Type.ScalarType)
  const typeRows = [].concat(...typePages.map((p) => p.Rows))
  check(JSON.stringify(types) === JSON.stringify(['VARCHAR', 'BOOLEAN', 'BIGINT', 'DOUBLE', 'TIMESTAMP', 'DATE', 'TIME',
    'INTERVAL_DAY_TO_SECOND', 'INTERVAL_YEAR_TO_MONTH', 'UNKNOWN', 'INTEGER']) &&
    typePages[0].Rows.length === 0 && typePages.slice(1).every((p) => p.Rows.length === 1) && typeRows.length === 11,
  'scalar_types: ColumnInfo of every scalar type; an empty first page, then a row per page', types)
  check(typeRows.every((r, i) => r.Data.length === 11 && r.Data.every((d, j) =>
    (j === i && types[i] !== 'UNKNOWN') ? typeof d.ScalarValue === 'string' && d.NullValue === undefined
      : d.NullValue === true && d.ScalarValue === undefined)),
  'scalar_types: each type\'s ScalarValue as a string, NullValue true elsewhere (UNKNOWN all null)', typeRows.map((r) => r.Data))

  // Signing.
  const bad = new W.TimestreamWriteClient(Object.assign({}, BASE, { maxAttempts: 1, credentials: { accessKeyId: 'AKIDFIXTURE', secretAccessKey: 'wrong' } }))
  await expectError('a wrong secret: InvalidSignatureException 403',
    () => bad.send(new W.DescribeDatabaseCommand({ DatabaseName: DB })), null, 403, 'InvalidSignatureException')
  const stranger = new W.TimestreamWriteClient(Object.assign({}, BASE, { maxAttempts: 1, credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'x' } }))
  await expectError('an unknown access key: UnrecognizedClientException 403',
    () => stranger.send(new W.DescribeDatabaseCommand({ DatabaseName: DB })), null, 403, 'UnrecognizedClientException')
  const token2 = new W.TimestreamWriteClient(Object.assign({}, BASE, { credentials: Object.assign({ sessionToken: 'FQoGZXIvYXdzE//token+/=' }, CREDENTIALS) }))
  const withToken = await token2.send(new W.DescribeDatabaseCommand({ DatabaseName: DB }))
  check(withToken.Database.DatabaseName === DB, 'a request with a session token (X-Amz-Security-Token signed) is accepted')

  await checkDiscovery()
  const counts = await control('GET', '/fixture/requests')
  check(counts.WriteRecords >= 4 && counts.Query >= 10, 'GET /fixture/requests counts requests per op', counts)
}

main().then(() => process.exit(failures ? 1 : 0), (e) => {
  console.log('FAIL: sdk-check.js ran to the end: ' + (e.stack || e))
  process.exit(1)
})
