from sockjs.tornado.conn import SockJSConnection as SockJSConnection
from sockjs.tornado.router import SockJSRouter as SockJSRouter
