// dynalite.js - dynalite (an in-memory DynamoDB) on 127.0.0.1 only, for
// the tests: node tests/node/dynalite.js PORT. Tables are created and
// deleted at once (no CREATING/DELETING wait). Prints "listening PORT"
// once it answers; ends on SIGTERM.
'use strict'
const dynalite = require('dynalite')
const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node dynalite.js PORT')
  process.exit(2)
}
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
server.listen(port, '127.0.0.1', () => console.log('listening ' + port))
// Exits at once: clients that keep connections open must not hold it up.
process.on('SIGTERM', () => process.exit(0))
