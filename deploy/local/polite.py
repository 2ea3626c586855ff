"""HTTP as the main job's people use it: a 503 with Retry-After — the service busy (admission control, issue 28)
or its database briefly away — is answered by waiting that long and sending the same request again, as a
company's browser or another municipal system should; any other answer is returned as it is."""
from __future__ import annotations

import time
from typing import Any

import httpx

MAX_BUSY_RETRIES = 30


class RetryWhenBusy(httpx.HTTPTransport):
    """A transport that resends a request answered 503 after the Retry-After it names."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(MAX_BUSY_RETRIES):
            response = super().handle_request(request)
            if response.status_code != 503 or "retry-after" not in response.headers:
                return response
            response.close()
            time.sleep(min(float(response.headers["retry-after"]), 30))
        return response


def client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(transport=RetryWhenBusy(), **kwargs)


_shared = client(timeout=30)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return _shared.get(url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return _shared.post(url, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    return _shared.put(url, **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return _shared.request(method, url, **kwargs)
