"""CORS as the HTTP API answers it once template.yaml's AllowedOrigins names origins: mirrored by the local runner.

API Gateway answers a preflight (OPTIONS with Origin and Access-Control-Request-Method) itself, without calling a
function, and adds Access-Control-Allow-Origin (and -Expose-Headers) to answers for an allowed Origin. The methods,
headers and max age come from the template's CorsConfiguration, the origins from the runner's --allowed-origins
(the parameter's default when not given: none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from products_api_local.apigateway.events import HttpRequest, HttpResponse

PARAMETER = "AllowedOrigins"


class CorsConfigurationError(ValueError):
    """template.yaml's CorsConfiguration is not the shape this module reads."""


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None

    def allows(self, origin: str | None) -> bool:
        return origin is not None and ("*" in self.origins or origin in self.origins)


def parse_origins(value: str) -> tuple[str, ...]:
    """The parameter's comma-separated list; empty means none."""
    return tuple(origin for origin in (part.strip() for part in value.split(",")) if origin)


def default_origins(template: Mapping[str, Any]) -> str:
    parameter = (template.get("Parameters") or {}).get(PARAMETER) or {}
    return str(parameter.get("Default", ""))


def policy_from_template(template: Mapping[str, Any], origins: str) -> CorsPolicy | None:
    """The CORS policy of the template's HTTP API with these origins, or None when there are none (no CORS)."""
    allowed = parse_origins(origins)
    if not allowed:
        return None
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        configuration = (resource.get("Properties") or {}).get("CorsConfiguration")
        if configuration is None:
            continue
        # !If [HasAllowedOrigins, {...}, !Ref AWS::NoValue]: the configuration used when origins are given
        if isinstance(configuration, Mapping) and "Fn::If" in configuration:
            configuration = configuration["Fn::If"][1]
        if not isinstance(configuration, Mapping):
            raise CorsConfigurationError(f"template.yaml: CorsConfiguration is {configuration!r}, not a mapping")
        max_age = configuration.get("MaxAge")
        return CorsPolicy(
            origins=allowed,
            methods=tuple(str(m).upper() for m in configuration.get("AllowMethods", [])),
            headers=tuple(str(h).lower() for h in configuration.get("AllowHeaders", [])),
            expose_headers=tuple(str(h).lower() for h in configuration.get("ExposeHeaders", [])),
            max_age=int(max_age) if max_age is not None else None,
        )
    raise CorsConfigurationError("template.yaml: no HttpApi has a CorsConfiguration, yet origins were given")


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def preflight(policy: CorsPolicy | None, request: HttpRequest) -> HttpResponse | None:
    """API Gateway's own answer to a CORS preflight, or None when the request is not one (the route answers)."""
    if policy is None or request.method.upper() != "OPTIONS":
        return None
    origin = _header(request.headers, "origin")
    if origin is None or _header(request.headers, "access-control-request-method") is None:
        return None
    response = HttpResponse(204)
    if policy.allows(origin):
        response.headers.extend(
            [
                ("Access-Control-Allow-Origin", "*" if "*" in policy.origins else origin),
                ("Access-Control-Allow-Methods", ",".join(policy.methods)),
                ("Access-Control-Allow-Headers", ",".join(policy.headers)),
            ]
        )
        if policy.max_age is not None:
            response.headers.append(("Access-Control-Max-Age", str(policy.max_age)))
    return response


def decorate(policy: CorsPolicy | None, request: HttpRequest, response: HttpResponse) -> None:
    """Add the CORS headers of an actual request's answer when its Origin is allowed."""
    origin = _header(request.headers, "origin")
    if policy is None or not policy.allows(origin) or request.method.upper() == "OPTIONS":
        return
    assert origin is not None
    response.headers.append(("Access-Control-Allow-Origin", "*" if "*" in policy.origins else origin))
    if policy.expose_headers:
        response.headers.append(("Access-Control-Expose-Headers", ",".join(policy.expose_headers)))
