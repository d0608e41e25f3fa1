"""CPython's SimpleXMLRPCServer with ThreadingMixIn and the seed's demo
functions: what users run today. Usage: cpython_server.py PORT"""
import sys
from socketserver import ThreadingMixIn
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler


class Server(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    request_queue_size = 1024


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/", "/RPC2")


class MyFuncs:
    def div(self, x, y):
        return x // y


server = Server(("127.0.0.1", int(sys.argv[1])), requestHandler=Handler, logRequests=False, allow_none=True)
server.register_introspection_functions()
server.register_multicall_functions()
server.register_function(pow)
server.register_function(lambda x, y: x + y, "add")
server.register_function(lambda v: v, "echo")
server.register_instance(MyFuncs())
print("cpython ready", flush=True)
server.serve_forever()
