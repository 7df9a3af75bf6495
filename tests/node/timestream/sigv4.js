// sigv4.js - checks the SigV4 signature of a received request with AWS's
// JS signer (@smithy/signature-v4 with @aws-crypto/sha256-js): the
// request's own signed headers, body, time and credential scope are signed
// again with the secret of its access key, and the two signatures must be
// equal. Used by fixture.js (every request it serves) and sdk-compare.js
// (a logged request whose body the SDK would not send byte for byte).
// Knows nothing of Timestream beyond the signing name it is given.
'use strict'
const { SignatureV4 } = require('@smithy/signature-v4')
const { Sha256 } = require('@aws-crypto/sha256-js')

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/

// The parts of an Authorization header, or null if it is not SigV4.
function parseAuthorization (value) {
  const m = AUTH_RE.exec(value || '')
  if (!m) return null
  return {
    accessKeyId: m[1],
    date: m[2],
    region: m[3],
    service: m[4],
    signedHeaders: m[5].split(';'),
    signature: m[6]
  }
}

// "20240102T030405Z" as a Date, or null.
function parseAmzDate (text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '')
  if (!m) return null
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]))
  return isNaN(d.getTime()) ? null : d
}

// The query string of a path as the signer takes it (repeated names
// become arrays).
function parseQuery (text) {
  const query = {}
  for (const part of (text || '').split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq))
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1))
    if (key in query) query[key] = [].concat(query[key], value)
    else query[key] = value
  }
  return query
}

// Signs method, url (path and query), headers (lower-case names; only
// the names in signedHeaders are used) and body (a string) at date with
// the given credentials and scope; returns the hex signature.
async function sign ({ method, url, headers, body, date, region, service,
  accessKeyId, secretAccessKey, sessionToken, signedHeaders }) {
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    region,
    service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: true
  })
  const only = {}
  for (const name of signedHeaders) {
    if (headers[name] !== undefined) only[name] = headers[name]
  }
  const q = url.indexOf('?')
  const host = headers.host || ''
  const signed = await signer.sign({
    method,
    protocol: 'https:',
    hostname: host.replace(/:\d+$/, ''),
    path: q < 0 ? url : url.slice(0, q),
    query: parseQuery(q < 0 ? '' : url.slice(q + 1)),
    headers: only,
    body
  }, { signingDate: date, signableHeaders: new Set(signedHeaders) })
  const auth = parseAuthorization(signed.headers.authorization)
  return auth ? auth.signature : ''
}

// Verifies a received request against secrets ({accessKeyId: secret}).
// Returns {ok: true, accessKeyId} or {ok: false, status, type, message}
// with the error AWS answers in that case.
async function verify ({ method, url, headers, body, service, secrets,
  now, maxSkewMs }) {
  const fail = (type, message) => ({ ok: false, status: 403, type, message })
  if (!headers.authorization) {
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token')
  }
  const auth = parseAuthorization(headers.authorization)
  if (!auth) {
    return fail('IncompleteSignatureException',
      'Authorization header requires \'Credential\', \'SignedHeaders\' and \'Signature\' parameters in the AWS4-HMAC-SHA256 format.')
  }
  if (!(auth.accessKeyId in secrets)) {
    return fail('UnrecognizedClientException',
      'The security token included in the request is invalid.')
  }
  const date = parseAmzDate(headers['x-amz-date'])
  if (!date || !auth.signedHeaders.includes('x-amz-date') ||
      !auth.signedHeaders.includes('host')) {
    return fail('IncompleteSignatureException',
      'The request must sign the headers host and x-amz-date, and carry X-Amz-Date as YYYYMMDDTHHMMSSZ.')
  }
  if (auth.service !== service) {
    return fail('InvalidSignatureException',
      `Credential should be scoped to correct service: '${service}'.`)
  }
  if (headers['x-amz-date'].slice(0, 8) !== auth.date) {
    return fail('InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${headers['x-amz-date'].slice(0, 8)}', from '${headers['x-amz-date']}'.`)
  }
  if (now !== undefined && Math.abs(now - date.getTime()) > maxSkewMs) {
    return fail('InvalidSignatureException',
      `Signature expired: ${headers['x-amz-date']} is now earlier or later than the server's time by more than ${maxSkewMs / 60000} minutes.`)
  }
  const expected = await sign({
    method,
    url,
    headers,
    body,
    date,
    region: auth.region,
    service: auth.service,
    accessKeyId: auth.accessKeyId,
    secretAccessKey: secrets[auth.accessKeyId],
    sessionToken: auth.signedHeaders.includes('x-amz-security-token')
      ? headers['x-amz-security-token'] : undefined,
    signedHeaders: auth.signedHeaders
  })
  if (expected !== auth.signature) {
    return fail('InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.')
  }
  return { ok: true, accessKeyId: auth.accessKeyId, region: auth.region }
}

module.exports = { parseAuthorization, parseAmzDate, sign, verify }
