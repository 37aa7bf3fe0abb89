// Starts dynalite in memory on a free port of 127.0.0.1 and prints `listening <port>`;
// with `--ssl`, over HTTPS with dynalite's own self-signed certificate. It exits when
// its standard input closes, so it cannot outlive the test that started it.
'use strict'

const dynalite = require('dynalite')

const ssl = process.argv.includes('--ssl')
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ssl })
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`)
})

process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
process.stdin.resume()
