// ops.js - the Timestream operations the fixture serves, from a parsed
// JSON request to an answer {status, body}: DescribeEndpoints,
// CreateDatabase, DescribeDatabase, CreateTable, DescribeTable,
// WriteRecords (Timestream Write) and Query (Timestream Query) with its
// NextToken paging. Checks each request's members against the API
// reference's constraints, runs it on store.js / sql.js, and shapes
// answers and errors as the service does. Injected failures
// (throttling and the like, fixture.js's /fixture/ control) are applied
// here, before the operation runs. No HTTP, no signing (fixture.js).
'use strict'
const crypto = require('crypto')
const { ServiceError, constraint } = require('./errors')
const sql = require('./sql')

const NAME_RE = /^[a-zA-Z0-9_.-]+$/
const OPS = ['DescribeEndpoints', 'CreateDatabase', 'DescribeDatabase', 'CreateTable',
  'DescribeTable', 'WriteRecords', 'Query']
const FAIL_MESSAGES = {
  ThrottlingException: 'Rate exceeded',
  InternalServerException: 'Timestream was unable to fully process this request because of an internal server error.',
  InvalidEndpointException: 'The requested endpoint was not valid.'
}
const RANGE_COLUMNS = [
  { Name: 'measure_name', Type: { ScalarType: 'VARCHAR' } },
  { Name: 'time_ms', Type: { ScalarType: 'BIGINT' } },
  { Name: 'value', Type: { ScalarType: 'DOUBLE' } }
]
const MAX_CURSORS = 10000

// A double as the query engine (Java) prints it: "1.5", "100.0",
// "1.0E7", "1.5E-7", "NaN", "Infinity".
function javaDouble (x) {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const abs = Math.abs(x)
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x)
    return s.includes('.') ? s : s + '.0'
  }
  const [mant, exp] = x.toExponential().split('e')
  return (mant.includes('.') ? mant : mant + '.0') + 'E' + Number(exp)
}

// Member checks, worded as AWS's validation layer words them.
function str (body, key, path, { min = 1, max = 256, re, optional } = {}) {
  const v = body[key]
  if (v === undefined || v === null) {
    if (optional) return undefined
    throw constraint(null, path, 'Member must not be null')
  }
  if (typeof v !== 'string') {
    throw new ServiceError('SerializationException', `${key}: expected a string`)
  }
  if (v.length < min || v.length > max) {
    throw constraint(v, path, `Member must have length between ${min} and ${max}`)
  }
  if (re && !re.test(v)) {
    throw constraint(v, path, `Member must satisfy regular expression pattern: ${re.source}`)
  }
  return v
}

function int (body, key, path, { min, max, optional } = {}) {
  const v = body[key]
  if (v === undefined || v === null) {
    if (optional) return undefined
    throw constraint(null, path, 'Member must not be null')
  }
  if (!Number.isInteger(v)) {
    throw new ServiceError('SerializationException', `${key}: expected an integer`)
  }
  if (v < min || v > max) {
    throw constraint(v, path, `Member must have value between ${min} and ${max}`)
  }
  return v
}

class Ops {
  // store: a store.js Store; address: what DescribeEndpoints answers
  // ("HOST:PORT"); pageRows: rows per Query page; cacheMinutes: the
  // endpoints' CachePeriodInMinutes.
  constructor ({ store, address, pageRows, cacheMinutes }) {
    this.store = store
    this.address = address
    this.pageRows = pageRows || 1000
    this.cacheMinutes = cacheMinutes || 1440
    this.cursors = new Map() // NextToken -> {queryString, state}
    this.failures = [] // [{op, error, count}]
  }

  // Makes the next count calls of op (or of every op, '*') answer error.
  inject (op, error, count) {
    if (!(error in FAIL_MESSAGES)) throw new Error(`unknown error ${error}`)
    if (op !== '*' && !OPS.includes(op)) throw new Error(`unknown op ${op}`)
    if (!Number.isInteger(count) || count < 0) throw new Error('count must be an integer >= 0')
    this.failures.push({ op, error, count })
  }

  s_injected (op) {
    for (const f of this.failures) {
      if ((f.op === op || f.op === '*') && f.count > 0) {
        f.count--
        return new ServiceError(f.error, FAIL_MESSAGES[f.error])
      }
    }
    return null
  }

  // Runs op (the part of X-Amz-Target after "Timestream_20181101.") on
  // text (the body). Returns {status, body (an object)}.
  handle (op, text) {
    try {
      if (!OPS.includes(op)) {
        throw new ServiceError('UnknownOperationException', '', null, 'com.amazon.coral.service')
      }
      let body
      try {
        body = text === '' ? {} : JSON.parse(text)
      } catch (e) {
        throw new ServiceError('SerializationException', 'The request body is not JSON: ' + e.message)
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new ServiceError('SerializationException', 'The request body must be a JSON object.')
      }
      const injected = this.s_injected(op)
      if (injected) throw injected
      return { status: 200, body: this['op' + op](body) }
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e
      return { status: e.status, body: e.body() }
    }
  }

  opDescribeEndpoints () {
    return { Endpoints: [{ Address: this.address, CachePeriodInMinutes: this.cacheMinutes }] }
  }

  s_db (body) {
    return str(body, 'DatabaseName', 'databaseName', { min: 3, re: NAME_RE })
  }

  s_table (body) {
    return str(body, 'TableName', 'tableName', { min: 3, re: NAME_RE })
  }

  opCreateDatabase (body) {
    const name = this.s_db(body)
    const kms = str(body, 'KmsKeyId', 'kmsKeyId', { max: 2048, optional: true })
    return { Database: this.store.createDatabase(name, kms) }
  }

  opDescribeDatabase (body) {
    return { Database: this.store.databaseInfo(this.s_db(body)) }
  }

  opCreateTable (body) {
    const db = this.s_db(body)
    const table = this.s_table(body)
    const retention = { MemoryStoreRetentionPeriodInHours: 6, MagneticStoreRetentionPeriodInDays: 73000 }
    const rp = body.RetentionProperties
    if (rp !== undefined) {
      if (rp === null || typeof rp !== 'object') {
        throw new ServiceError('SerializationException', 'RetentionProperties: expected an object')
      }
      retention.MemoryStoreRetentionPeriodInHours = int(rp, 'MemoryStoreRetentionPeriodInHours',
        'retentionProperties.memoryStoreRetentionPeriodInHours', { min: 1, max: 8766 })
      retention.MagneticStoreRetentionPeriodInDays = int(rp, 'MagneticStoreRetentionPeriodInDays',
        'retentionProperties.magneticStoreRetentionPeriodInDays', { min: 1, max: 73000 })
    }
    let magnetic = false
    const mw = body.MagneticStoreWriteProperties
    if (mw !== undefined) {
      if (mw === null || typeof mw !== 'object') {
        throw new ServiceError('SerializationException', 'MagneticStoreWriteProperties: expected an object')
      }
      if (typeof mw.EnableMagneticStoreWrites !== 'boolean') {
        throw constraint(mw.EnableMagneticStoreWrites,
          'magneticStoreWriteProperties.enableMagneticStoreWrites', 'Member must not be null')
      }
      magnetic = mw.EnableMagneticStoreWrites
    }
    return { Table: this.store.createTable(db, table, retention, magnetic) }
  }

  opDescribeTable (body) {
    const db = this.s_db(body)
    return { Table: this.store.tableInfo(db, this.s_table(body)) }
  }

  opWriteRecords (body) {
    const db = this.s_db(body)
    const table = this.s_table(body)
    const records = body.Records
    if (records === undefined || records === null) throw constraint(null, 'records', 'Member must not be null')
    if (!Array.isArray(records) || records.some((r) => r === null || typeof r !== 'object')) {
      throw new ServiceError('SerializationException', 'Records: expected a list of objects')
    }
    if (records.length < 1) {
      throw constraint([], 'records', 'Member must have length greater than or equal to 1')
    }
    if (records.length > 100) {
      throw constraint(`[${records.length} records]`, 'records',
        'Member must have length less than or equal to 100')
    }
    const common = body.CommonAttributes
    if (common !== undefined && (common === null || typeof common !== 'object')) {
      throw new ServiceError('SerializationException', 'CommonAttributes: expected an object')
    }
    const { ingested, rejected } = this.store.writeRecords(db, table, common, records)
    if (rejected.length) {
      throw new ServiceError('RejectedRecordsException',
        'One or more records have been rejected. See RejectedRecords for details.',
        { RejectedRecords: rejected })
    }
    return { RecordsIngested: ingested }
  }

  // Query: the first call answers an empty page with a NextToken (as
  // the service does while a query runs); later calls page the result
  // taken at the first call.
  opQuery (body) {
    const queryString = str(body, 'QueryString', 'queryString', { max: 262144 })
    const nextToken = str(body, 'NextToken', 'nextToken', { max: 2048, optional: true })
    const maxRows = int(body, 'MaxRows', 'maxRows', { min: 1, max: 1000, optional: true })
    str(body, 'ClientToken', 'clientToken', { min: 32, max: 128, optional: true })
    const pageRows = Math.min(maxRows || this.pageRows, this.pageRows)
    if (nextToken === undefined) {
      let q
      try {
        q = sql.parse(queryString)
      } catch (e) {
        if (e instanceof sql.SqlError) throw new ServiceError('ValidationException', e.message)
        throw e
      }
      const state = q.kind === 'scalar_types' ? this.s_scalar_types() : this.s_range(q)
      state.queryId = crypto.randomBytes(16).toString('hex').toUpperCase().slice(0, 26)
      state.offset = 0
      return this.s_page(queryString, state, 0)
    }
    const cursor = this.cursors.get(nextToken)
    if (!cursor || cursor.queryString !== queryString) {
      throw new ServiceError('ValidationException', 'Invalid pagination token')
    }
    const take = cursor.state.oneRowPages ? 1 : pageRows
    return this.s_page(queryString, cursor.state, take, cursor.offset)
  }

  s_range (q) {
    const rows = this.store.range(q).map((r) => ({
      Data: [
        { ScalarValue: r.measure },
        { ScalarValue: r.timeMs.toString() },
        r.value === null ? { NullValue: true } : { ScalarValue: javaDouble(r.value) }
      ]
    }))
    return { rows, columns: RANGE_COLUMNS }
  }

  s_scalar_types () {
    const columns = sql.SCALAR_SAMPLES.map(([type]) => ({
      Name: type.toLowerCase(), Type: { ScalarType: type }
    }))
    const rows = sql.SCALAR_SAMPLES.map(([, sample], i) => ({
      Data: sql.SCALAR_SAMPLES.map((_, j) =>
        j === i && sample !== null ? { ScalarValue: sample } : { NullValue: true })
    }))
    return { rows, columns, oneRowPages: true }
  }

  // One page of take rows from offset; a NextToken if rows remain or if
  // this is the (empty) first page.
  s_page (queryString, state, take, offset = 0) {
    const rows = state.rows.slice(offset, offset + take)
    const next = offset + rows.length
    const done = take > 0 && next >= state.rows.length
    const answer = {
      QueryId: state.queryId,
      Rows: rows,
      ColumnInfo: state.columns,
      QueryStatus: {
        ProgressPercentage: done ? 100.0 : (state.rows.length ? 100.0 * next / state.rows.length : 0.0),
        CumulativeBytesScanned: next * 64,
        CumulativeBytesMetered: done ? 10000000 : 0
      }
    }
    if (!done) {
      const token = crypto.randomBytes(96).toString('base64')
      this.cursors.set(token, { queryString, state, offset: next })
      if (this.cursors.size > MAX_CURSORS) this.cursors.delete(this.cursors.keys().next().value)
      answer.NextToken = token
    }
    return answer
  }
}

module.exports = { Ops, OPS, javaDouble, FAIL_MESSAGES }
