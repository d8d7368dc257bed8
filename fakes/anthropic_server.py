"""A protocol-faithful fake of the Anthropic Messages HTTP API, for running the real `anthropic` SDK against.

    with FakeAnthropic(token_delay_s=0.01) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="test", max_retries=0)
        fake.script(Status(529, "overloaded_error", "Overloaded"), DropMidStream(after_deltas=3))
        ...

Faults from `script()` are consumed one per `POST /v1/messages` request, in order. Streams are sent with
`Transfer-Encoding: chunked`, so a dropped connection is an incomplete body to the client, not a clean end.

A request with `tools` and a forcing `tool_choice` (`{"type": "tool", "name": …}` or `{"type": "any"}`) is
answered with one `tool_use` block (stop reason `tool_use`; streamed as `input_json_delta` events) whose
input comes from `tool_responder(body, tool)` — by default a minimal instance of the tool's input schema;
`tool_inputs(...)` scripts a sequence. Faults apply to tool replies as to text (deltas are JSON pieces).

A model that calls a tool on its own (tool choice `auto`) is scripted with `reply`: a `Reply(text, tool,
tool_input)` — or a callable returning one for the requests it picks, e.g. by the question — is sent as
the real API sends it: a text block, then a `tool_use` block, stop reason `tool_use` (see `Reply`).

`fault_source(body)` is asked for a fault for each `POST /v1/messages` that the script does not cover
(the script always goes first); `RandomFaults` is one: a seeded random fault on a fraction of requests.

Message Batches (`/v1/messages/batches`: create, retrieve, list, cancel, delete, results): a batch
ends `batch_delay_s` after creation by `clock` (or expires, every request `expired`, when that is
past its 24 h `expires_at`); `results_url` and the per-type `request_counts` appear only then, and the
results are JSONL in an order of their own. Each request's `params` are checked like a
`POST /v1/messages` body while the batch "runs" (a bad one is an `errored` result); the batch itself
is refused (400) for a missing or malformed `custom_id` (`^[a-zA-Z0-9_-]{1,64}$`), a duplicate one, or
more than 100,000 requests. `batch_creates()` lists the create requests received.

Credentials: every endpoint wants a key in `x-api-key` or `Authorization: Bearer` (the SDK sends the
latter); none → 401 `x-api-key header is required`. With `api_keys` given only those keys are
accepted, anything else → 401 `authentication_error` `invalid x-api-key`, as the real API answers;
assign `fake.api_keys` to revoke or restore keys while clients run. A refused request is recorded but
takes no scripted fault. `GET /v1/models` (paged) and `GET /v1/models/{id}` serve `models`.
"""

from __future__ import annotations

import contextlib
import json
import random
import select
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakes import anthropic_protocol as proto
from fakes.anthropic_faults import (
    STATUS_FOR_ERROR_TYPE,
    Disconnect,
    DropMidStream,
    ErrorEvent,
    Fault,
    Hang,
    RandomFaults,
    RecordedRequest,
    SlowFirstByte,
    Status,
    replies,
)
from fakes.anthropic_protocol import Reply

# (request body, the forced tool's definition) -> the tool_use block's input
ToolResponder = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
# request body (parsed JSON or None) -> the fault for this request, or None; called under the fake's lock
FaultSource = Callable[[Any], Fault | None]


class _ClientGoneError(Exception):
    pass


@dataclass
class _Batch:
    id: str
    created: float
    ready_at: float
    results: list[dict[str, Any]]
    ended: float | None = None
    cancel_initiated: float | None = None


# ---------------------------------------------------------------- the fake


class FakeAnthropic:
    def __init__(
        self,
        *,
        reply: str | proto.Reply | Callable[[dict[str, Any]], str | proto.Reply] = proto.DEFAULT_REPLY,
        tool_responder: ToolResponder | None = None,
        fault_source: FaultSource | None = None,
        token_delay_s: float = 0.0,
        first_token_delay_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        min_cache_tokens: dict[str, int] | None = None,
        batch_delay_s: float = 0.0,
        clock: Callable[[], float] = time.time,
        api_keys: Iterable[str] | None = None,
        models: Sequence[str] = proto.DEFAULT_MODELS,
    ) -> None:
        self.reply = reply
        # Accepted keys; None = any non-empty key. Reassign (a new frozenset) to revoke keys at run time.
        self.api_keys: frozenset[str] | None = frozenset(api_keys) if api_keys is not None else None
        self.models = list(models)  # GET /v1/models, newest first
        self.tool_responder = tool_responder  # input of forced tool calls; None = from the schema
        self.fault_source = fault_source  # faults for requests the script does not cover
        self.token_delay_s = token_delay_s
        self.first_token_delay_s = first_token_delay_s
        self.min_cache_tokens = dict(min_cache_tokens or {})
        self.batch_delay_s = batch_delay_s
        self.clock = clock  # wall clock for cache TTLs and batch timestamps; injectable to test expiry
        self.requests: list[RecordedRequest] = []
        self.server_errors: list[BaseException] = []  # bugs in the fake or in a `reply` callable
        self.disconnects: list[Disconnect] = []
        self.cache = proto.PromptCache()
        self._faults: deque[Fault] = deque()
        self._batches: dict[str, _Batch] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeAnthropic:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self._address, _Handler, self)
            host, port = self._server.server_address[:2]
            self._address = (str(host), int(port))  # a restart after stop() comes back on the same port
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.02,), name="fake-anthropic", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            self._stopping.set()
            server.shutdown()
            server.server_close()
            with self._lock:
                connections = list(server.open_connections)
            for conn in connections:  # idle keep-alive connections: let their clients see the server go
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            if self._thread is not None:
                self._thread.join(timeout=5)

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAnthropic is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # scripting and inspection
    def script(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.disconnects.clear()
            self.server_errors.clear()
            self._faults.clear()
            self._batches.clear()
            self.cache = proto.PromptCache()

    def message_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1/messages"]

    def wait_for_disconnects(self, count: int = 1, timeout: float = 2.0) -> list[Disconnect]:
        deadline = time.monotonic() + timeout
        while len(self.disconnects) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.disconnects)

    # internals used by the handler
    def _record(self, req: RecordedRequest, take_fault: bool) -> tuple[int, Fault | None]:
        with self._lock:
            self.requests.append(req)
            fault: Fault | None = None
            if take_fault and self._faults:
                fault = self._faults.popleft()
            elif take_fault and self.fault_source is not None:
                fault = self.fault_source(req.body)
            return len(self.requests) - 1, fault

    def _reply_for(self, body: dict[str, Any]) -> str | proto.Reply:
        return self.reply(body) if callable(self.reply) else self.reply

    def _completion_for(self, body: dict[str, Any]) -> proto.Completion:
        """Text from `reply` (and the model's own tool call when it is a `Reply` naming an offered
        tool), or — when `tool_choice` forces a tool — a tool call from `tool_responder`."""
        tool = proto.forced_tool(body)
        if tool is None:
            reply = self._reply_for(body)
            if not isinstance(reply, proto.Reply):
                return proto.complete(reply, body)
            if reply.tool is None or not proto.offered(body, reply.tool):
                return proto.complete(reply.text, body)
            call = proto.ToolCall(proto.new_id("toolu"), reply.tool, dict(reply.tool_input))
            return proto.complete_with_tool(reply.text, call, body)
        responder = self.tool_responder or proto.default_tool_input
        tool_input = responder(body, tool)
        if not isinstance(tool_input, dict):
            raise TypeError(f"tool_responder must return a dict, not {type(tool_input).__name__}")
        call = proto.ToolCall(proto.new_id("toolu"), str(tool["name"]), tool_input)
        return proto.complete_tool_call(call, body)

    def _usage_for(self, body: dict[str, Any]) -> proto.CacheUsage:
        blocks = proto.prompt_blocks(body)
        min_tokens = proto.min_cache_tokens_for(body["model"], self.min_cache_tokens)
        with self._lock:
            return self.cache.apply(body["model"], blocks, min_tokens, self.clock())

    def _batch_view(self, batch: _Batch) -> dict[str, Any]:
        """The batch as `GET /v1/messages/batches/{id}` shows it now. Results are ready `batch_delay_s`
        after creation; a batch not done 24 h after creation ends with every request `expired`."""
        now = self.clock()
        expires = batch.created + proto.BATCH_EXPIRY_S
        if batch.ended is None and now >= min(batch.ready_at, expires):
            if batch.ready_at >= expires:
                for r in batch.results:
                    r["result"] = {"type": "expired"}
            batch.ended = min(batch.ready_at, expires)
        counts: dict[str, int] = {}
        if batch.ended is None:
            counts["processing"] = len(batch.results)
        else:
            for r in batch.results:
                kind = r["result"]["type"]
                counts[kind] = counts.get(kind, 0) + 1
        url = f"{self.base_url}/v1/messages/batches/{batch.id}/results"
        return proto.batch_json(
            batch.id,
            created=batch.created,
            ended=batch.ended,
            counts=counts,
            results_url=url,
            cancel_initiated=batch.cancel_initiated,
        )

    def batch_creates(self) -> list[RecordedRequest]:
        """The `POST /v1/messages/batches` requests received (accepted or not)."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1/messages/batches"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # socketserver's default backlog of 5 drops SYNs under load (1 s retries)

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeAnthropic) -> None:
        self.fake = fake
        self.open_connections: set[socket.socket] = set()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.fake._lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-response is expected (tests do it on purpose): stay quiet."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.fake._lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # like real API front ends: each SSE frame leaves at once
    server: _Server
    _responded = False  # whether a status line went out for the current request

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # ------------------------------------------------------------ plumbing
    @property
    def fake(self) -> FakeAnthropic:
        return self.server.fake

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return data
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
        except OSError as exc:
            raise _ClientGoneError from exc

    def _chunk(self, data: bytes) -> None:
        self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def _wait(self, seconds: float) -> None:
        """Sleep, but notice the client closing the connection (and the fake stopping) meanwhile."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self.fake._stopping.is_set():
                raise _ClientGoneError
            try:
                readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.05))
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    raise _ClientGoneError
            except (OSError, ValueError) as exc:
                raise _ClientGoneError from exc
            if readable:
                time.sleep(min(remaining, 0.01))

    def _headers(self, status: int, request_id: str, extra: Mapping[str, str]) -> None:
        self._responded = True
        self.send_response(status)
        self.send_header("request-id", request_id)
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_json(
        self, status: int, body: object, request_id: str, extra: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self._headers(
            status,
            request_id,
            {"content-type": "application/json", "content-length": str(len(data)), **(extra or {})},
        )
        self._write(data)

    def _send_error(
        self, status: int, error_type: str, message: str, extra: Mapping[str, str] | None = None
    ) -> None:
        request_id = proto.new_id("req")
        self._send_json(status, proto.error_body(error_type, message, request_id), request_id, extra)

    def _abort(self, reset: bool) -> None:
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------ routing
    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw else None
            bad_json = False
        except ValueError:
            body, bad_json = None, True
        headers = {k.lower(): v for k, v in self.headers.items()}
        refusal = self._refusal(headers)
        is_messages = self.command == "POST" and path == "/v1/messages"
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        req = RecordedRequest(self.command, path, headers, body, time.monotonic(), parts.query, peer)
        index, fault = self.fake._record(req, take_fault=is_messages and refusal is None)
        stream = isinstance(body, dict) and body.get("stream") is True
        progress = [0]  # deltas sent, shared with the streaming code
        self._responded = False
        try:
            if refusal is not None:
                self._send_error(401, "authentication_error", refusal)
                return
            if bad_json:
                self._send_error(400, "invalid_request_error", "Request body is not valid JSON")
                return
            self._route(path, body, fault, stream, progress, query=parse_qs(parts.query))
        except _ClientGoneError:
            self.close_connection = True
            if not self.fake._stopping.is_set():
                gone = Disconnect(index, path, stream, progress[0], time.monotonic())
                with self.fake._lock:
                    self.fake.disconnects.append(gone)
        except Exception as exc:
            self.close_connection = True
            with self.fake._lock:
                self.fake.server_errors.append(exc)
            if not self._responded:
                with contextlib.suppress(_ClientGoneError):
                    self._send_error(500, "api_error", f"fake server error: {exc!r}")

    def _refusal(self, headers: Mapping[str, str]) -> str | None:
        """The real API's 401 message for these credentials, or None when they are accepted."""
        auth = headers.get("authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        key = headers.get("x-api-key") or bearer
        if not key:
            return "x-api-key header is required"
        accepted = self.fake.api_keys
        if accepted is not None and key not in accepted:
            return "invalid x-api-key"
        return None

    def _route(
        self,
        path: str,
        body: Any,
        fault: Fault | None,
        stream: bool,
        progress: list[int],
        *,
        query: Mapping[str, list[str]],
    ) -> None:
        method, segs = self.command, path.strip("/").split("/")
        try:
            if method == "POST" and path == "/v1/messages":
                self._messages(body, fault, stream, progress)
            elif method == "POST" and path == "/v1/messages/count_tokens":
                self._count_tokens(body)
            elif method == "GET" and path == "/v1/models":
                self._send_json(200, proto.models_page(self.fake.models, query), proto.new_id("req"))
            elif method == "GET" and segs[:2] == ["v1", "models"] and len(segs) == 3:
                if segs[2] in self.fake.models:
                    self._send_json(200, proto.model_json(segs[2]), proto.new_id("req"))
                else:
                    self._send_error(404, "not_found_error", f"model: {segs[2]}")
            elif segs[:3] == ["v1", "messages", "batches"]:
                self._batches(method, segs[3:], body, query)
            else:
                self._send_error(404, "not_found_error", f"Not found: {method} {path}")
        except proto.InvalidRequestError as exc:
            self._send_error(400, "invalid_request_error", str(exc))

    # ------------------------------------------------------------ /v1/messages
    def _messages(self, body: Any, fault: Fault | None, stream: bool, progress: list[int]) -> None:
        fake = self.fake
        if isinstance(fault, Hang):
            self._wait(fault.seconds)
            self._abort(reset=False)
            return
        if isinstance(fault, SlowFirstByte):
            self._wait(fault.seconds)
        if isinstance(fault, Status):
            extra = dict(fault.headers)
            if fault.retry_after is not None:
                ra = fault.retry_after
                extra["retry-after"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            if fault.retry_after_ms is not None:
                extra["retry-after-ms"] = str(fault.retry_after_ms)
            self._send_error(fault.code, fault.error_type, fault.message, extra)
            return
        params = proto.validate_message_params(body)
        usage = fake._usage_for(params)
        completion = fake._completion_for(params)
        msg_id, model = proto.new_id("msg"), params["model"]
        if not stream:
            if isinstance(fault, ErrorEvent):
                status = STATUS_FOR_ERROR_TYPE.get(fault.error_type, 500)
                self._send_error(status, fault.error_type, fault.message)
                return
            pieces = len(completion.lead) + len(completion.pieces)
            self._wait(fake.first_token_delay_s + fake.token_delay_s * max(0, pieces - 1) if pieces else 0.0)
            message = proto.message_json(msg_id, model, completion, usage, completion.output_tokens)
            if isinstance(fault, DropMidStream):
                data = json.dumps(message).encode()
                self._headers(200, proto.new_id("req"), {"content-type": "application/json"} | _clen(data))
                self._write(data[: len(data) // 2])
                self._abort(fault.reset)
                return
            self._send_json(200, message, proto.new_id("req"))
            return
        self._stream(
            msg_id=msg_id, model=model, completion=completion, usage=usage, fault=fault, progress=progress
        )

    def _stream(
        self,
        *,
        msg_id: str,
        model: str,
        completion: proto.Completion,
        usage: proto.CacheUsage,
        fault: Fault | None,
        progress: list[int],
    ) -> None:
        fake = self.fake
        self._headers(
            200,
            proto.new_id("req"),
            {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
            | {"transfer-encoding": "chunked"},
        )
        for frame in proto.stream_head(
            msg_id, model, usage, completion.tool_call, lead=bool(completion.lead)
        ):
            self._chunk(frame)
        limit = fault.after_deltas if isinstance(fault, DropMidStream | ErrorEvent) else None
        sent = 0
        for frame, is_delta in proto.stream_deltas(completion):
            if not is_delta:
                self._chunk(frame)
                continue
            if limit is not None and sent >= limit:
                break
            self._wait(fake.first_token_delay_s if sent == 0 else fake.token_delay_s)
            self._chunk(frame)
            sent += 1
            progress[0] += 1
        if isinstance(fault, DropMidStream):
            self._abort(fault.reset)
            return
        if isinstance(fault, ErrorEvent):
            self._chunk(
                proto.sse("error", proto.error_body(fault.error_type, fault.message, proto.new_id("req")))
            )
        else:
            for frame in proto.stream_tail(completion, usage):
                self._chunk(frame)
        self._write(b"0\r\n\r\n")

    # ------------------------------------------------------------ count_tokens and batches
    def _count_tokens(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            raise proto.InvalidRequestError("model: Field required")
        if not isinstance(body.get("messages"), list):
            raise proto.InvalidRequestError("messages: Field required")
        self._send_json(200, {"input_tokens": proto.input_token_total(body)}, proto.new_id("req"))

    def _batches(self, method: str, rest: list[str], body: Any, query: Mapping[str, list[str]]) -> None:
        fake = self.fake
        if method == "POST" and not rest:
            self._send_json(200, fake._batch_view(self._create_batch(body)), proto.new_id("req"))
            return
        if method == "GET" and not rest:
            with fake._lock:
                views = [fake._batch_view(b) for b in reversed(fake._batches.values())]
            self._send_json(200, proto.batches_page(views, query), proto.new_id("req"))
            return
        with fake._lock:
            batch = fake._batches.get(rest[0])
        if batch is None or len(rest) > 2:
            self._send_error(404, "not_found_error", f"Message batch {rest[0]!r} not found")
            return
        action = (method, rest[1] if len(rest) == 2 else "")
        if action == ("GET", ""):
            self._send_json(200, fake._batch_view(batch), proto.new_id("req"))
        elif action == ("DELETE", ""):
            if fake._batch_view(batch)["processing_status"] != "ended":
                raise proto.InvalidRequestError(
                    f"Message batch {batch.id} cannot be deleted while it is processing; cancel it first."
                )
            with fake._lock:
                fake._batches.pop(batch.id, None)
            self._send_json(200, {"id": batch.id, "type": "message_batch_deleted"}, proto.new_id("req"))
        elif action == ("POST", "cancel"):
            if fake._batch_view(batch)["processing_status"] == "in_progress":
                batch.cancel_initiated = batch.ended = fake.clock()
                for r in batch.results:
                    r["result"] = {"type": "canceled"}
            self._send_json(200, fake._batch_view(batch), proto.new_id("req"))
        elif action == ("GET", "results"):
            if fake._batch_view(batch)["processing_status"] != "ended":
                raise proto.InvalidRequestError(
                    f"Message batch {batch.id} is still processing; results are not ready."
                )
            data = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in batch.results)
            self._headers(200, proto.new_id("req"), {"content-type": "application/binary"} | _clen(data))
            self._write(data)
        else:
            self._send_error(
                404, "not_found_error", f"Not found: {method} /v1/messages/batches/{'/'.join(rest)}"
            )

    def _create_batch(self, body: Any) -> _Batch:
        """Accept a batch (400 for what the API refuses up front) and work out its results now; they
        are served once the batch has ended, in an order of their own (the API does not promise the
        request order: match them by `custom_id`)."""
        fake = self.fake
        requests = proto.validate_batch_requests(body)
        results = [
            {"custom_id": r["custom_id"], "result": self._batch_result(r.get("params"))} for r in requests
        ]
        batch_id = proto.new_id("msgbatch")
        random.Random(batch_id).shuffle(results)
        now = fake.clock()
        batch = _Batch(batch_id, now, now + fake.batch_delay_s, results)
        with fake._lock:
            fake._batches[batch.id] = batch
        return batch

    def _batch_result(self, params: Any) -> dict[str, Any]:
        fake = self.fake
        try:
            params = proto.validate_message_params(params)
            if params.get("stream"):
                raise proto.InvalidRequestError("stream: Streaming is not supported in batches")
            usage = fake._usage_for(params)
        except proto.InvalidRequestError as exc:
            return {
                "type": "errored",
                "error": proto.error_body("invalid_request_error", str(exc), proto.new_id("req")),
            }
        completion = fake._completion_for(params)
        message = proto.message_json(
            proto.new_id("msg"), params["model"], completion, usage, completion.output_tokens
        )
        message["usage"]["service_tier"] = "batch"
        return {"type": "succeeded", "message": message}


def _clen(data: bytes) -> dict[str, str]:
    return {"content-length": str(len(data))}


def tool_inputs(*inputs: Mapping[str, Any]) -> ToolResponder:
    """A `tool_responder` returning `inputs` in turn (the last one repeats), whatever tool is forced."""
    queue: deque[dict[str, Any]] = deque(dict(i) for i in inputs)
    lock = threading.Lock()

    def next_input(_body: dict[str, Any], _tool: dict[str, Any]) -> dict[str, Any]:
        with lock:
            return dict(queue.popleft() if len(queue) > 1 else queue[0])

    return next_input


__all__ = [
    "Disconnect",
    "DropMidStream",
    "ErrorEvent",
    "FakeAnthropic",
    "Fault",
    "FaultSource",
    "Hang",
    "RandomFaults",
    "RecordedRequest",
    "Reply",
    "SlowFirstByte",
    "Status",
    "ToolResponder",
    "replies",
    "tool_inputs",
]
