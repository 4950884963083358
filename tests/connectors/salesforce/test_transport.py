from __future__ import annotations

import pytest

from tierbridge.connectors.salesforce.transport import parse_limit_info, path_template


def test_limit_info_single() -> None:
    """`api-usage=N/M` gives the org allocation's use."""
    info = parse_limit_info("api-usage=18/5000")

    assert info is not None
    assert info.api_usage == (18, 5000)


def test_limit_info_list() -> None:
    """A `;`-separated list keeps every item; per-app names in parentheses are dropped."""
    info = parse_limit_info(
        "api-usage=25/5000; api-bursts=1/750;per-app-api-usage=17/250(appName=x)"
    )

    assert info is not None
    assert dict(info.items) == {
        "api-usage": (25, 5000),
        "api-bursts": (1, 750),
        "per-app-api-usage": (17, 250),
    }


@pytest.mark.parametrize("value", ["", "garbage", "api-usage=lots", "future-item=ok"])
def test_limit_info_unknown(value: str) -> None:
    """A header without any `name=used/max` item gives None."""
    assert parse_limit_info(value) is None


def test_limit_info_without_api_usage() -> None:
    """Known items without api-usage leave api_usage None."""
    info = parse_limit_info("api-bursts=1/750")

    assert info is not None
    assert info.api_usage is None


@pytest.mark.parametrize(
    ("url", "template"),
    [
        (
            "https://x.my.salesforce.com/services/data/v62.0/sobjects/Case/500Hs00001XyZaBIAV",
            "/services/data/v62.0/sobjects/Case/{id}",
        ),
        (
            "https://x/services/data/v62.0/sobjects/CaseComment/00aHs00000AbCdE",
            "/services/data/v62.0/sobjects/CaseComment/{id}",
        ),
        (
            "https://x/services/data/v62.0/query/?q=SELECT+Id+FROM+Case+WHERE+SuppliedEmail%3D%27a%40b.c%27",
            "/services/data/v62.0/query/",
        ),
        (
            "https://x/services/data/v62.0/queryAll/01gHs00000AbCdEIAV-2000",
            "/services/data/v62.0/queryAll/{locator}",
        ),
        ("https://x/services/data/v62.0/sobjects/Case/", "/services/data/v62.0/sobjects/Case/"),
    ],
)
def test_path_template(url: str, template: str) -> None:
    """Ids and locators become placeholders and the query string is dropped."""
    assert path_template(url) == template
