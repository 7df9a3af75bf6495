// store.js - the fixture's in-memory Timestream for LiveAnalytics:
// databases, tables and their records, with the service's write rules
// that matter to tscache (from the WriteRecords and RejectedRecord API
// reference and reasons the service is seen to give): records merged
// with CommonAttributes, the ingestion window of the memory store (or,
// with magnetic writes on, of the magnetic store), the version upsert
// and its rejections, records applied in request order (so a duplicate
// of an earlier record of the same request meets the version rule), and
// the range query of sql.js run over the records. Request shapes are
// checked by ops.js before they get here; nothing here speaks HTTP.
'use strict'
const { ServiceError, constraint } = require('./errors')

const ACCOUNT = '123456789012'
const FUTURE_MS = 15 * 60 * 1000 // records may be up to 15 minutes ahead
const NS_PER = {
  NANOSECONDS: 1n, MICROSECONDS: 1000n, MILLISECONDS: 1000000n, SECONDS: 1000000000n
}
const MEASURE_TYPES = ['DOUBLE', 'BIGINT', 'VARCHAR', 'BOOLEAN', 'TIMESTAMP', 'MULTI']
const DOUBLE_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/

// Seen in answers of the service (quoted in public bug reports).
const REASON_SAME_VERSION = 'A record already exists with the same time, dimensions, ' +
  'measure name, and record version. A higher record version must be specified in ' +
  'order to update the measure value. Specifying record version is supported by the ' +
  'latest SDKs.'
const reasonLowerVersion = (v, e) => `The record version ${v} is lower than the ` +
  `existing version ${e}. A higher version is required to update the measure value.`
const reasonWindow = (from, to, store) => 'The record timestamp is outside the time ' +
  `range [${new Date(from).toISOString()}, ${new Date(to).toISOString()}) of the ${store}.`

function notFound (what, name) {
  return new ServiceError('ResourceNotFoundException', `The ${what} ${name} does not exist.`)
}

// Trino's cast of a VARCHAR to DOUBLE (try_cast: null when it fails).
function castDouble (text) {
  const t = text.trim()
  if (DOUBLE_RE.test(t)) return Number(t)
  if (t === 'NaN') return NaN
  if (t === 'Infinity' || t === '+Infinity') return Infinity
  if (t === '-Infinity') return -Infinity
  return null
}

class Store {
  // now: () => epoch ms (tests may pin it); region for ARNs.
  constructor ({ now, region } = {}) {
    this.now = now || (() => Date.now())
    this.region = region || 'us-east-1'
    this.databases = new Map() // name -> {info, tables: Map name -> table}
  }

  s_arn (path) {
    return `arn:aws:timestream:${this.region}:${ACCOUNT}:database/${path}`
  }

  s_database (name) {
    const db = this.databases.get(name)
    if (!db) throw notFound('database', name)
    return db
  }

  s_table (database, name) {
    const table = this.s_database(database).tables.get(name)
    if (!table) throw notFound('table', name)
    return table
  }

  databaseInfo (name) {
    const db = this.s_database(name)
    return Object.assign({}, db.info, { TableCount: db.tables.size })
  }

  createDatabase (name, kmsKeyId) {
    if (this.databases.has(name)) {
      throw new ServiceError('ConflictException', `The database ${name} already exists.`)
    }
    const t = this.now() / 1000
    this.databases.set(name, {
      info: {
        Arn: this.s_arn(name),
        DatabaseName: name,
        TableCount: 0,
        KmsKeyId: kmsKeyId ||
          `arn:aws:kms:${this.region}:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`,
        CreationTime: t,
        LastUpdatedTime: t
      },
      tables: new Map()
    })
    return this.databaseInfo(name)
  }

  tableInfo (database, name) {
    return Object.assign({}, this.s_table(database, name).info)
  }

  // retention: {MemoryStoreRetentionPeriodInHours,
  // MagneticStoreRetentionPeriodInDays}; magneticWrites: boolean.
  createTable (database, name, retention, magneticWrites) {
    const db = this.s_database(database)
    if (db.tables.has(name)) {
      throw new ServiceError('ConflictException', `The table ${name} already exists.`)
    }
    const t = this.now() / 1000
    db.tables.set(name, {
      info: {
        Arn: this.s_arn(`${database}/table/${name}`),
        TableName: name,
        DatabaseName: database,
        TableStatus: 'ACTIVE',
        RetentionProperties: {
          MemoryStoreRetentionPeriodInHours: retention.MemoryStoreRetentionPeriodInHours,
          MagneticStoreRetentionPeriodInDays: retention.MagneticStoreRetentionPeriodInDays
        },
        CreationTime: t,
        LastUpdatedTime: t,
        MagneticStoreWriteProperties: { EnableMagneticStoreWrites: !!magneticWrites },
        Schema: { CompositePartitionKey: [{ Type: 'MEASURE' }] }
      },
      records: new Map(), // key -> record
      byId: new Map() // identifier dimension's value -> Map key -> record
    })
    return this.tableInfo(database, name)
  }

  // Merges CommonAttributes into each record and checks what makes the
  // whole request invalid (ValidationException: nothing is written).
  // Returns the records as {dimensions, measureName, measureValue, type,
  // timeNs, version}.
  s_prepare (common, records) {
    const out = []
    common = common || {}
    records.forEach((rec, i) => {
      const at = `records.${i + 1}.member`
      const dims = [].concat(common.Dimensions || [], rec.Dimensions || [])
      const names = new Set()
      const dimensions = dims.map((d, j) => {
        if (!d || typeof d.Name !== 'string' || d.Name.length < 1 || d.Name.length > 60) {
          throw constraint(d && d.Name, `${at}.dimensions.${j + 1}.member.name`,
            'Member must have length between 1 and 60')
        }
        if (typeof d.Value !== 'string' || d.Value.length < 1 || d.Value.length > 2048) {
          throw constraint(d.Value, `${at}.dimensions.${j + 1}.member.value`,
            'Member must have length between 1 and 2048')
        }
        const vt = d.DimensionValueType === undefined ? 'VARCHAR' : d.DimensionValueType
        if (vt !== 'VARCHAR') {
          throw constraint(vt, `${at}.dimensions.${j + 1}.member.dimensionValueType`,
            'Member must satisfy enum value set: [VARCHAR]')
        }
        if (names.has(d.Name)) {
          throw new ServiceError('ValidationException',
            `Duplicate dimension name ${d.Name} in record ${i}.`)
        }
        names.add(d.Name)
        return { Name: d.Name, Value: d.Value }
      }).sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
      const pick = (k) => (rec[k] !== undefined ? rec[k] : common[k])
      const measureName = pick('MeasureName')
      const measureValue = pick('MeasureValue')
      const type = pick('MeasureValueType') === undefined ? 'DOUBLE' : pick('MeasureValueType')
      const unit = pick('TimeUnit') === undefined ? 'MILLISECONDS' : pick('TimeUnit')
      const time = pick('Time')
      const version = pick('Version') === undefined ? 1 : pick('Version')
      if (typeof measureName !== 'string' || measureName.length < 1 || measureName.length > 256) {
        throw constraint(measureName, `${at}.measureName`, 'Member must have length between 1 and 256')
      }
      if (!MEASURE_TYPES.includes(type)) {
        throw constraint(type, `${at}.measureValueType`,
          'Member must satisfy enum value set: [DOUBLE, BIGINT, VARCHAR, BOOLEAN, TIMESTAMP, MULTI]')
      }
      if (type === 'MULTI' || pick('MeasureValues') !== undefined) {
        throw new ServiceError('ValidationException',
          'The fixture does not implement MULTI measures (tscache writes single measures).')
      }
      if (!(unit in NS_PER)) {
        throw constraint(unit, `${at}.timeUnit`,
          'Member must satisfy enum value set: [MICROSECONDS, SECONDS, MILLISECONDS, NANOSECONDS]')
      }
      if (typeof time !== 'string' || !/^-?[0-9]{1,19}$/.test(time)) {
        throw new ServiceError('ValidationException', 'Invalid time for record.')
      }
      if (!Number.isSafeInteger(version) || version < 1) {
        // The service takes any Long >= 1; JSON numbers above 2^53 lose
        // digits in Node, so the fixture refuses them rather than guess.
        throw constraint(version, `${at}.version`,
          'Member must be an integer between 1 and 9007199254740991 (the fixture\'s limit)')
      }
      if (typeof measureValue !== 'string' || measureValue.length > 2048 ||
          !this.s_valid_value(type, measureValue)) {
        throw new ServiceError('ValidationException',
          `Invalid measure value for record ${i}: ${JSON.stringify(measureValue)} is not a ${type}.`)
      }
      out.push({
        dimensions,
        measureName,
        measureValue,
        type,
        timeNs: BigInt(time) * NS_PER[unit],
        version
      })
    })
    return out
  }

  s_valid_value (type, v) {
    switch (type) {
      case 'DOUBLE': return DOUBLE_RE.test(v) && isFinite(Number(v))
      case 'BIGINT': return /^-?[0-9]{1,19}$/.test(v) &&
        BigInt(v) <= 9223372036854775807n && BigInt(v) >= -9223372036854775808n
      case 'BOOLEAN': return v === 'true' || v === 'false'
      case 'TIMESTAMP': return /^-?[0-9]{1,19}$/.test(v)
      default: return true
    }
  }

  static s_same_value (a, b) {
    if (a.type !== b.type) return false
    if (a.type === 'DOUBLE') return Number(a.measureValue) === Number(b.measureValue)
    return a.measureValue === b.measureValue
  }

  static s_put (table, key, r) {
    table.records.set(key, r)
    const id = r.dimensions.find((d) => d.Name === 'identifier')
    if (!id) return
    if (!table.byId.has(id.Value)) table.byId.set(id.Value, new Map())
    table.byId.get(id.Value).set(key, r)
  }

  static s_key (r) {
    return JSON.stringify([r.dimensions, r.measureName, r.timeNs.toString()])
  }

  // The window [from, to) of epoch ms a table takes records in, and which
  // store the service names in its reason.
  s_window (table) {
    const now = this.now()
    const ret = table.info.RetentionProperties
    const magnetic = table.info.MagneticStoreWriteProperties.EnableMagneticStoreWrites
    const memoryFrom = now - ret.MemoryStoreRetentionPeriodInHours * 3600000
    const from = magnetic ? now - ret.MagneticStoreRetentionPeriodInDays * 86400000 : memoryFrom
    return { from, to: now + FUTURE_MS, memoryFrom, store: magnetic ? 'data ingestion window' : 'memory store' }
  }

  // WriteRecords after ops.js checked the request's shape. Every record
  // not rejected is written. Returns {ingested: {Total, MemoryStore,
  // MagneticStore}, rejected: [{RecordIndex, Reason, ExistingVersion?}]}.
  writeRecords (database, tableName, common, records) {
    const table = this.s_table(database, tableName)
    const prepared = this.s_prepare(common, records)
    const win = this.s_window(table)
    const ingested = { Total: 0, MemoryStore: 0, MagneticStore: 0 }
    const rejected = []
    prepared.forEach((r, i) => {
      const ms = Number(r.timeNs / 1000000n)
      if (ms < win.from || ms >= win.to) {
        rejected.push({ RecordIndex: i, Reason: reasonWindow(win.from, win.to, win.store) })
        return
      }
      const key = Store.s_key(r)
      const old = table.records.get(key)
      if (old && r.version <= old.version && !Store.s_same_value(old, r)) {
        rejected.push(r.version === old.version
          ? { RecordIndex: i, Reason: REASON_SAME_VERSION }
          : { RecordIndex: i, Reason: reasonLowerVersion(r.version, old.version), ExistingVersion: old.version })
        return
      }
      if (!old || r.version > old.version) Store.s_put(table, key, r)
      ingested.Total++
      if (ms < win.memoryFrom) ingested.MagneticStore++
      else ingested.MemoryStore++
    })
    return { ingested, rejected }
  }

  // Runs a parsed range query (sql.js): rows {measure, timeMs (BigInt),
  // value (a number, or null for NullValue)} in ORDER BY time,
  // measure_name. Records older than the magnetic retention are gone.
  range (q) {
    const db = this.databases.get(q.database)
    if (!db) {
      throw new ServiceError('ValidationException', `line 1:${q.column}: Database '${q.database}' does not exist`)
    }
    const table = db.tables.get(q.table)
    if (!table) {
      throw new ServiceError('ValidationException', `line 1:${q.column}: Table '${q.database}.${q.table}' does not exist`)
    }
    const lo = q.fromMs * 1000000n
    const hi = q.toMs * 1000000n
    const oldest = BigInt(this.now() -
      table.info.RetentionProperties.MagneticStoreRetentionPeriodInDays * 86400000) * 1000000n
    const rows = []
    for (const r of (table.byId.get(q.id) || new Map()).values()) {
      if (r.timeNs < lo || r.timeNs > hi || r.timeNs < oldest) continue
      if (q.measure !== undefined && r.measureName !== q.measure) continue
      let value = null
      if (r.type === 'DOUBLE') value = Number(r.measureValue)
      else if (r.type === 'VARCHAR') value = castDouble(r.measureValue)
      const ns = r.timeNs
      // to_milliseconds rounds toward negative infinity.
      const timeMs = ns >= 0n ? ns / 1000000n : -((-ns + 999999n) / 1000000n)
      rows.push({ measure: r.measureName, timeNs: ns, timeMs, value })
    }
    rows.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1
      : a.measure < b.measure ? -1 : a.measure > b.measure ? 1 : 0))
    if (q.limit !== undefined && BigInt(rows.length) > q.limit) rows.length = Number(q.limit)
    return rows
  }

  // Every stored record, for GET /fixture/records.
  dump () {
    const out = []
    for (const [dbName, db] of this.databases) {
      for (const [tableName, table] of db.tables) {
        for (const r of table.records.values()) {
          out.push({
            database: dbName,
            table: tableName,
            dimensions: r.dimensions,
            measureName: r.measureName,
            measureValue: r.measureValue,
            measureValueType: r.type,
            time: r.timeNs.toString(),
            timeUnit: 'NANOSECONDS',
            version: r.version
          })
        }
      }
    }
    return out
  }
}

module.exports = { Store, castDouble, ACCOUNT }
