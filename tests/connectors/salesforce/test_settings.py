from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.connectors.salesforce.conftest import MakeSettings
from tierbridge.connectors.registry import SETTINGS_MODELS, connector_class
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.connectors.salesforce.settings import SalesforceSettings


def test_registered() -> None:
    """`system: salesforce` resolves to these settings and this connector."""
    assert SETTINGS_MODELS["salesforce"] is SalesforceSettings
    assert connector_class("salesforce") is SalesforceConnector


def test_defaults(make_settings: MakeSettings) -> None:
    """API version 62.0 and External_Ref__c are the defaults."""
    settings = make_settings()

    assert settings.api_version == "62.0"
    assert settings.correlation_field == "External_Ref__c"
    assert settings.query_limit == 2000


def test_org_id_normalised(make_settings: MakeSettings) -> None:
    """A 15-character organization id is stored in its 18-character form."""
    assert make_settings(organization_id="00DHs000000OrGa").organization_id == "00DHs000000OrGaMAK"


@pytest.mark.parametrize(
    "overrides",
    [
        {"organization_id": "500Hs00001XyZaB"},
        {"organization_id": "nope"},
        {"api_version": "v62"},
        {"correlation_field": "Subject"},
        {"auth": {"type": "basic", "username": "u", "password": {"env": "X"}}},
        {"base_url": "http://127.0.0.1:1"},
    ],
)
def test_invalid_settings(make_settings: MakeSettings, overrides: dict[str, Any]) -> None:
    """Another object's id, bad versions, standard fields, basic auth and http are refused."""
    with pytest.raises(ValidationError):
        make_settings(**overrides)


def test_file_limit_over_json_upload(make_settings: MakeSettings) -> None:
    """A file limit the JSON upload cannot carry is a config error naming the largest."""
    with pytest.raises(ValidationError, match=r"max_size_mb 100 is over 37.5"):
        make_settings(attachments={"max_size_mb": 100})
