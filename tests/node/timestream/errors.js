// errors.js - the errors the Timestream fixture answers, shaped as the
// service sends them in the AWS JSON 1.0 protocol: an HTTP status and a
// body {"__type": "NAMESPACE#Name", "message": "..."} (plus the error's
// own members, e.g. RejectedRecords). Statuses and names are those of the
// Timestream Write and Query API references.
'use strict'

const SERVICE_NS = 'com.amazonaws.timestream.v20181101'
// Request-shape (model constraint) failures come from AWS's request
// validation layer, under its own namespace; the SDK reads both as
// ValidationException.
const CORAL_VALIDATE_NS = 'com.amazon.coral.validate'

// The statuses of the errors the fixture answers (auth errors, 403, are
// fixture.js's).
const STATUS = {
  ConflictException: 409,
  InternalServerException: 500,
  InvalidEndpointException: 421,
  RejectedRecordsException: 419,
  ResourceNotFoundException: 404,
  ThrottlingException: 400,
  ValidationException: 400,
  UnknownOperationException: 400,
  SerializationException: 400
}

class ServiceError extends Error {
  // name: the error's shape name; message: its text (none if empty);
  // extra: members beside the message; ns: the namespace of __type.
  constructor (name, message, extra, ns) {
    super(message || '')
    this.type = name
    this.status = STATUS[name] || 400
    this.extra = extra || {}
    this.ns = ns || SERVICE_NS
  }

  body () {
    const body = { __type: this.ns + '#' + this.type }
    if (this.message) body.message = this.message
    return Object.assign(body, this.extra)
  }
}

// A model-constraint failure, worded as AWS's validation layer words it:
// "1 validation error detected: Value V at 'path' failed to satisfy
// constraint: Member must ...".
function constraint (value, path, rule) {
  const shown = value === null || value === undefined ? 'null'
    : "'" + (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 200) + "'"
  return new ServiceError('ValidationException',
    `1 validation error detected: Value ${shown} at '${path}' failed to satisfy constraint: ${rule}`,
    null, CORAL_VALIDATE_NS)
}

module.exports = { ServiceError, constraint, SERVICE_NS, CORAL_VALIDATE_NS, STATUS }
