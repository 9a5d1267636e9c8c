"""The routes of API Gateway's HTTP API: which route a request selects, or why none does (404, or 405 when only the
method is wrong), read from each AWS::Serverless::Function's HttpApi events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from products_api_local.template.document import function_events

DEFAULT_ROUTE = "$default"
ANY_METHOD = "ANY"
PAYLOAD_FORMAT_VERSION = "2.0"
_PARAMETER = re.compile(r"\{([A-Za-z0-9_.:-]+)(\+?)\}")


class RouteError(ValueError):
    """template.yaml declares a route the local runner cannot serve as API Gateway would."""


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # "/api/v1/products/{id}", or $default
    function: str  # logical id of the AWS::Serverless::Function

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class RouteMiss:
    """No route for this request: `allowed` lists the methods of the routes whose path matched (empty: 404)."""

    allowed: tuple[str, ...]


def routes_from_template(template: Mapping[str, Any]) -> list[Route]:
    """Every HttpApi event of every AWS::Serverless::Function, as a route; REST (`Api`) events are not served."""
    routes: list[Route] = []
    for event in function_events(template, "HttpApi"):
        properties = event.properties
        version = str(properties.get("PayloadFormatVersion", PAYLOAD_FORMAT_VERSION))
        if version != PAYLOAD_FORMAT_VERSION:
            raise RouteError(f"{event.where}: PayloadFormatVersion {version} is not supported locally, only 2.0")
        # SAM's defaults: an HttpApi event without Path and Method is the $default route.
        path = properties.get("Path", DEFAULT_ROUTE)
        method = str(properties.get("Method", ANY_METHOD)).upper()
        if not isinstance(path, str):
            raise RouteError(f"{event.where}: Path must be a literal string, got {path!r}")
        routes.append(Route(ANY_METHOD if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" else method, path, event.function))
    return routes


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    segments: tuple[str, ...]
    # Per segment: 0 literal, 1 {param}, 2 {param+}; tuples compare segment by segment, so the smallest is the most
    # specific, which is the route API Gateway prefers.
    ranks: tuple[int, ...]

    def match_path(self, segments: Sequence[str]) -> dict[str, str] | None:
        if self.route.path == DEFAULT_ROUTE:
            return {}
        parameters: dict[str, str] = {}
        for position, pattern in enumerate(self.segments):
            rank = self.ranks[position]
            if rank == 2:
                rest = segments[position:]
                if not rest or not all(rest):
                    return None
                parameters[pattern] = unquote("/".join(rest))
                return parameters
            if position >= len(segments):
                return None
            segment = segments[position]
            if rank == 1:
                if not segment:
                    return None
                parameters[pattern] = unquote(segment)
            elif segment != pattern:
                return None
        return parameters if len(segments) == len(self.segments) else None


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [self._compile(route) for route in routes]
        keys = [compiled.route.route_key for compiled in self._routes]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise RouteError(f"route {', '.join(duplicates)} is declared more than once")

    @property
    def routes(self) -> list[Route]:
        return [compiled.route for compiled in self._routes]

    @staticmethod
    def _compile(route: Route) -> _CompiledRoute:
        if route.path == DEFAULT_ROUTE:
            return _CompiledRoute(route, (), (3,))
        if not route.path.startswith("/"):
            raise RouteError(f"{route.function}: route path {route.path!r} must start with /")
        segments: list[str] = []
        ranks: list[int] = []
        raw_segments = route.path[1:].split("/")
        for position, segment in enumerate(raw_segments):
            parameter = _PARAMETER.fullmatch(segment)
            if parameter is None:
                if "{" in segment or "}" in segment:
                    raise RouteError(f"{route.function}: a path variable must be a whole segment in {route.path!r}")
                segments.append(segment)
                ranks.append(0)
                continue
            greedy = parameter.group(2) == "+"
            if greedy and position != len(raw_segments) - 1:
                raise RouteError(f"{route.function}: a greedy variable must be the last segment in {route.path!r}")
            segments.append(parameter.group(1))
            ranks.append(2 if greedy else 1)
        return _CompiledRoute(route, tuple(segments), tuple(ranks))

    def match(self, method: str, raw_path: str) -> RouteMatch | RouteMiss:
        method = method.upper()
        segments = raw_path[1:].split("/") if raw_path.startswith("/") else [raw_path]
        candidates: list[tuple[tuple[int, ...], bool, RouteMatch]] = []
        allowed: set[str] = set()
        for compiled in self._routes:
            parameters = compiled.match_path(segments)
            if parameters is None:
                continue
            route_method = compiled.route.method
            if route_method in {method, ANY_METHOD}:
                candidates.append((compiled.ranks, route_method == ANY_METHOD, RouteMatch(compiled.route, parameters)))
            else:
                allowed.add(route_method)
        if candidates:
            return min(candidates, key=lambda candidate: (candidate[0], candidate[1]))[2]
        return RouteMiss(tuple(sorted(allowed)))
