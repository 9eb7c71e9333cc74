from typing import Any

CONNECT: str
DISCONNECT: str
MESSAGE: str
HEARTBEAT: str

def json_encode(data: Any) -> str: ...
def json_decode(data: str | bytes) -> Any: ...
def disconnect(code: int, reason: str) -> str: ...
