"""Issue 32: a service's /docs and /redoc load nothing from outside it (a municipal intranet reaches nothing)."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sme_runtime.docs import offline_docs_app

# What a browser fetches by itself: an attribute in the page, or an image address in a script
PAGE_ADDRESS = re.compile(r'(?:src|href)="([^"]+)"')
SCRIPT_IMAGE = re.compile(r'src:"(https?://[^"]+)"')
STYLE_ADDRESS = re.compile(r"url\((['\"]?)(https?://[^)'\"]+)\1\)")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(offline_docs_app(title="검사용 서비스", version="1.0.0"))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_and_what_it_loads_stay_inside_the_service(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200
    addresses = PAGE_ADDRESS.findall(html.text)
    assert addresses, "the page loads its bundle"
    for address in addresses:
        assert address.startswith("/"), f"{page} loads {address} from outside"
        loaded = client.get(address)
        assert loaded.status_code == 200, address
        if address.endswith((".js", ".css")):
            assert SCRIPT_IMAGE.findall(loaded.text) == [], f"{address} draws an image from outside"
            assert [a for _, a in STYLE_ADDRESS.findall(loaded.text)] == [], f"{address} styles from outside"


def test_the_redoc_footer_logo_is_the_services_own(client: TestClient) -> None:
    bundle = client.get("/static-offline-docs/redoc.standalone.js").text
    assert 'src:"/static-offline-docs/favicon.png"' in bundle
    assert client.get("/static-offline-docs/favicon.png").status_code == 200
