// A bare sockjs-node echo server, the same rooms protocol as scripts/echo_server.py:
//   node echo_node.js PORT   (SOCKJS_MODULE: path of the sockjs package, installed under var/)
// "J<room>" joins a room; any other message goes to every member of the sender's room (or back to the
// sender). Loopback only.
'use strict';
const http = require('http');
const sockjs = require(process.env.SOCKJS_MODULE || 'sockjs');
const port = parseInt(process.argv[2] || '8300', 10);
const rooms = new Map();
const echo = sockjs.createServer({ log: () => {}, disconnect_delay: 5000 });
echo.on('connection', (conn) => {
  let room = null;
  conn.on('data', (msg) => {
    if (msg[0] === 'J') {
      const name = msg.slice(1);
      if (!rooms.has(name)) rooms.set(name, new Set());
      room = rooms.get(name);
      room.add(conn);
      return;
    }
    if (room === null) { conn.write(msg); return; }
    for (const c of room) c.write(msg);
  });
  conn.on('close', () => { if (room !== null) room.delete(conn); });
});
const server = http.createServer();
echo.installHandlers(server, { prefix: '/echo' });
server.listen(port, '127.0.0.1', () => console.log(`READY echo-node http://127.0.0.1:${port}/echo`));
const stop = () => { server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
