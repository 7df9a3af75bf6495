// dynalite.js - dynalite (an in-memory DynamoDB) on 127.0.0.1 (or HOST,
// a test's own address), for the tests: node tests/node/dynalite.js PORT
// [HOST]. Tables are created and
// deleted at once (no CREATING/DELETING wait). Prints "listening PORT"
// once it answers; ends on SIGTERM.
'use strict'
const dynalite = require('dynalite')
const net = require('net')
const port = Number(process.argv[2])
const host = process.argv[3] || '127.0.0.1'
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !net.isIP(host)) {
  console.error('usage: node dynalite.js PORT [HOST], HOST a numeric address')
  process.exit(2)
}
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
server.listen(port, host, () => console.log('listening ' + port))
// Exits at once: clients that keep connections open must not hold it up.
process.on('SIGTERM', () => process.exit(0))
