"""Every behaviour setting is a TRACESEC_BEHAVIOR_* variable with the engine's own default."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from tracesec.behavior import BehaviorSettings
from tracesec.config import Config, ConfigError


def test_every_engine_setting_is_configurable_with_the_same_default() -> None:
    names = {spec.name for spec in dataclasses.fields(BehaviorSettings)} - {"block"}
    config_fields = {spec.name for spec in dataclasses.fields(Config)}
    assert {name for name in names if f"behavior_{name}" not in config_fields} == set()
    assert BehaviorSettings.from_config(Config.load({})) == BehaviorSettings()


def test_settings_are_read_from_the_environment() -> None:
    config = Config.load(
        {
            "TRACESEC_MODE": "block",
            "TRACESEC_BEHAVIOR_WINDOW_SECONDS": "1",
            "TRACESEC_BEHAVIOR_AUTH_FAILURE_STATUSES": "401, 429",
            "TRACESEC_BEHAVIOR_LOGIN_ROUTES": "/Login,/api/Session",
            "TRACESEC_BEHAVIOR_API_KEY_HEADERS": "X-Service-Token, x-api-key",
            "TRACESEC_BEHAVIOR_DENY_IPS": "192.0.2.0/24",
            "TRACESEC_BEHAVIOR_DENY_USERS": "Mallory",
        }
    )
    settings = BehaviorSettings.from_config(config)
    assert settings.block
    assert settings.window_seconds == 1.0
    assert settings.auth_failure_statuses == frozenset({401, 429})
    assert settings.login_routes == frozenset({"/Login", "/api/Session"})
    assert settings.api_key_headers == ("x-service-token", "x-api-key")
    assert settings.deny_ips == (ipaddress.ip_network("192.0.2.0/24"),)
    assert settings.deny_users == frozenset({"Mallory"})


def test_keyword_overrides_take_typed_values() -> None:
    config = Config.load({}, behavior_auth_failure_statuses={401}, behavior_max_actor_routes=100)
    assert config.behavior_auth_failure_statuses == frozenset({401})
    assert BehaviorSettings.from_config(config).max_actor_routes == 100


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("TRACESEC_BEHAVIOR_AUTH_FAILURE_STATUSES", "401,abc", "a whole number from 100 to 599"),
        ("TRACESEC_BEHAVIOR_WINDOW_SECONDS", "0", "a number from 1 to 3600"),
        ("TRACESEC_BEHAVIOR_BASELINE_QUANTILE", "1.5", "a number from 0.5 to 0.999"),
    ],
)
def test_an_invalid_value_names_the_variable_and_what_it_accepts(
    variable: str, value: str, accepted: str
) -> None:
    with pytest.raises(ConfigError) as error:
        Config.load({variable: value})
    assert variable in str(error.value)
    assert accepted in str(error.value)
