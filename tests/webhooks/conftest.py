"""A real webhook receiver on loopback, checking every signature with the standardwebhooks library."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from webhooks.models import Endpoint


@dataclass
class Received:
    path: str
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str = ""

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server in a thread; each path may have the secret that signs what comes to it.

    `answers` are the status codes to give, in turn (then 200); `hold` makes each request wait
    for `release` before it is answered, so a test can kill the sender mid-delivery.
    """

    port: int = 0
    secrets: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    redirect_to: str = ""
    hold: bool = False
    answer_first: int = 0  # with `hold`: how many requests are still answered at once before holding
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def expect(self, endpoint: Endpoint) -> Endpoint:
        self.secrets[endpoint.url.split(str(self.port), 1)[1]] = endpoint.secret
        return endpoint

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender was killed mid-request: like any HTTP server, the receiver drops a
                    # request cut short (it was never delivered; the sender retries it).
                    self.close_connection = True
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                secret = receiver.secrets.get(self.path)
                verified, error = False, "no secret for this path"
                if secret:
                    try:
                        Webhook(secret).verify(body, headers)
                        verified, error = True, ""
                    except WebhookVerificationError as exc:
                        error = str(exc)
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers.get("webhook-id", ""), headers, body,
                                                      verified, error))
                    code = receiver.answers.pop(0) if receiver.answers else 200
                    held = receiver.hold and receiver.answer_first <= 0
                    receiver.answer_first -= 1
                if held:
                    receiver.release.wait(timeout=60)
                try:
                    if receiver.redirect_to:
                        self.send_response(302)
                        self.send_header("Location", receiver.redirect_to)
                    else:
                        self.send_response(code)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone (killed mid-delivery)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until `start` again (same port)."""
        if self.server is not None:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r.webhook_id for r in self.received)


@pytest.fixture
def receiver(settings):
    """A receiver on loopback, with the setting that lets webhooks reach it (off in production)."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    server = Receiver().start()
    yield server
    server.stop()
