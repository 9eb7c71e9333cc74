from sockjs.tornado.basehandler import BaseHandler, PreflightHandler

class IFrameHandler(BaseHandler):
    def get(self) -> None: ...

class GreetingsHandler(BaseHandler):
    def get(self) -> None: ...

class InfoHandler(PreflightHandler):
    access_methods: str
    def get(self) -> None: ...
