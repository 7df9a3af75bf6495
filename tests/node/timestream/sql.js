// sql.js - the only SQL the Timestream fixture runs: the history
// backend's range query, in exactly the text of the design page
// (docs/timestream.md, "Query"), and the fixture-only statement
// SELECT * FROM "fixture"."scalar_types". parse() turns a query string
// into a plain object or says in AWS's manner why it is not accepted;
// rangeSql() writes one. Runs nothing (store.js does).
'use strict'

// Timestream's nanosecond timestamps hold +-9223372036854 ms.
const MAX_MS = 9223372036854n

const NAME = '"([A-Za-z0-9_.-]{3,256})"'
const QUOTED = "'((?:[^']|'')*)'"
const INT = '(-?[0-9]+)'
const RANGE_RE = new RegExp(
  '^SELECT measure_name, to_milliseconds\\(time\\) AS time_ms, ' +
  'coalesce\\(measure_value::double, try_cast\\(measure_value::varchar AS double\\)\\) AS value ' +
  'FROM ' + NAME + '\\.' + NAME + ' ' +
  'WHERE identifier = ' + QUOTED + ' ' +
  'AND time BETWEEN from_milliseconds\\(' + INT + '\\) AND from_milliseconds\\(' + INT + '\\)' +
  '(?: AND measure_name = ' + QUOTED + ')?' +
  ' ORDER BY time, measure_name' +
  '(?: LIMIT ([0-9]+))?$')

const SCALAR_TYPES_SQL = 'SELECT * FROM "fixture"."scalar_types"'

// One row per Timestream scalar type, in this order: the column named
// after the type holds the sample, every other column NullValue.
// UNKNOWN is the type of a bare NULL, so its row is all NullValue.
const SCALAR_SAMPLES = [
  ['VARCHAR', 'it\'s \u00e9t\u00e9, "quoted"\ttab'],
  ['BOOLEAN', 'true'],
  ['BIGINT', '-9223372036854775808'],
  ['DOUBLE', '1.5E-7'],
  ['TIMESTAMP', '2024-02-29 23:59:59.123456789'],
  ['DATE', '2024-02-29'],
  ['TIME', '23:59:59.123456789'],
  ['INTERVAL_DAY_TO_SECOND', '1 02:03:04.005000000'],
  ['INTERVAL_YEAR_TO_MONTH', '1-2'],
  ['UNKNOWN', null],
  ['INTEGER', '2147483647']
]

function unquote (text) {
  return text === undefined ? undefined : text.replace(/''/g, "'")
}

class SqlError extends Error {}

// Parses sql: {kind: 'range', database, table, id, fromMs, toMs
// (BigInt), measure (or undefined), limit (or undefined)} or
// {kind: 'scalar_types'}. Throws SqlError with the message of the
// ValidationException the fixture answers.
function parse (sql) {
  if (sql === SCALAR_TYPES_SQL) return { kind: 'scalar_types' }
  const m = RANGE_RE.exec(sql)
  if (!m) {
    throw new SqlError('The fixture runs only the history backend\'s range query ' +
      '(docs/timestream.md) and ' + SCALAR_TYPES_SQL + '; this query is not that text: ' +
      JSON.stringify(sql.length > 300 ? sql.slice(0, 300) + '...' : sql))
  }
  const fromMs = BigInt(m[4])
  const toMs = BigInt(m[5])
  for (const v of [fromMs, toMs]) {
    if (v > MAX_MS || v < -MAX_MS) {
      throw new SqlError(`from_milliseconds(${v}): the timestamp is out of the range ` +
        `Timestream holds (+-${MAX_MS} ms)`)
    }
  }
  let limit
  if (m[7] !== undefined) {
    limit = BigInt(m[7])
    if (limit < 1n) throw new SqlError('LIMIT must be a positive integer')
  }
  return {
    kind: 'range',
    database: m[1],
    table: m[2],
    id: unquote(m[3]),
    fromMs,
    toMs,
    measure: unquote(m[6]),
    limit,
    // 1-based column of the table name, for the service's "line 1:N:" errors
    column: sql.indexOf(' FROM "') + 7
  }
}

// The range query's text for q (the fields parse() gives), as the
// design page writes it: for the checks that play the backend.
function rangeSql (q) {
  const quote = (s) => "'" + String(s).replace(/'/g, "''") + "'"
  return 'SELECT measure_name, to_milliseconds(time) AS time_ms, coalesce(measure_value::double, ' +
    `try_cast(measure_value::varchar AS double)) AS value FROM "${q.database}"."${q.table}" ` +
    `WHERE identifier = ${quote(q.id)} AND time BETWEEN from_milliseconds(${q.fromMs}) ` +
    `AND from_milliseconds(${q.toMs})` +
    (q.measure !== undefined ? ` AND measure_name = ${quote(q.measure)}` : '') +
    ' ORDER BY time, measure_name' + (q.limit !== undefined ? ` LIMIT ${q.limit}` : '')
}

module.exports = { parse, rangeSql, SqlError, SCALAR_TYPES_SQL, SCALAR_SAMPLES, MAX_MS }
