"""Credentials: API keys (tp_...) and OAuth access tokens, stored only as SHA-256 hashes.

Tokens are 256-bit random strings, so a plain SHA-256 is a safe one-way index (no salt or slow hash
is needed for secrets that cannot be guessed); the hash is the table's key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from products_api.core.dynamodb import (
    StoredItem,
    from_attribute_values,
    put_new,
    to_attribute_values,
    translated_errors,
)
from products_api.errors import InsufficientScope, Unauthorized
from products_api.products.models import format_timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

API_KEY_PREFIX = "tp_"
CredentialKind = Literal["api-key", "oauth"]
# Every scope a route requires (the functions' REQUIRED_SCOPE): minting any other would grant nothing.
KNOWN_SCOPES = ("products:read", "products:write")
# RFC 6750 b64token (any length from 1: a short token of the right form is unknown, not malformed), bounded so a
# huge header is refused before it is hashed.
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]{1,512}=*)")
_CACHE_ENTRIES = 1024
# Unknown tokens are remembered apart, in a smaller cache of their own: a spray of random tokens evicts only other
# unknown tokens, never a good credential (and still costs one read per new token, as it must).
_UNKNOWN_ENTRIES = 256


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Credential(StoredItem):
    """A credential as stored (never the token itself)."""

    token_hash: str
    credential_id: str
    company_id: str
    kind: CredentialKind
    scopes: list[str] = Field(default_factory=list)
    created_at: str
    expires_at: int | None = None  # epoch seconds
    revoked_at: str | None = None


class Principal(BaseModel):
    """Who is calling: what the rest of the request may rely on."""

    model_config = ConfigDict(frozen=True)

    company_id: str
    credential_id: str
    kind: CredentialKind
    scopes: frozenset[str]


class CredentialStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def find(self, hashed: str) -> Credential | None:
        with translated_errors():
            response = self._client.get_item(TableName=self._table, Key=to_attribute_values({"tokenHash": hashed}))
        item = response.get("Item")
        return Credential.model_validate(from_attribute_values(item)) if item else None

    def create(
        self,
        company_id: str,
        kind: CredentialKind,
        scopes: list[str],
        expires_in_seconds: int | None,
        now: datetime,
    ) -> tuple[str, Credential]:
        """Mint a token; it is returned once and only its hash is stored."""
        secret = secrets.token_urlsafe(32)
        token = f"{API_KEY_PREFIX}{secret}" if kind == "api-key" else secret
        credential = Credential(
            token_hash=token_hash(token),
            credential_id="cred_" + secrets.token_hex(8),
            company_id=company_id,
            kind=kind,
            scopes=sorted(set(scopes)),
            created_at=format_timestamp(now),
            expires_at=int(now.timestamp()) + expires_in_seconds if expires_in_seconds is not None else None,
        )
        # a fresh 256-bit token never collides; the condition makes sure nothing is overwritten
        put_new(self._client, self._table, credential, "tokenHash")
        return token, credential

    def revoke(self, token: str, now: datetime) -> bool:
        """Mark a credential revoked; False when no such credential exists."""
        return self._revoke_hash(token_hash(token), now)

    def _revoke_hash(self, hashed: str, now: datetime) -> bool:
        try:
            with translated_errors(expected=frozenset({"ConditionalCheckFailedException"})):
                self._client.update_item(
                    TableName=self._table,
                    Key=to_attribute_values({"tokenHash": hashed}),
                    UpdateExpression="SET #revokedAt = if_not_exists(#revokedAt, :now)",
                    # only existing credentials: update_item would otherwise create one
                    ConditionExpression="attribute_exists(#tokenHash)",
                    ExpressionAttributeNames={"#revokedAt": "revokedAt", "#tokenHash": "tokenHash"},
                    ExpressionAttributeValues=to_attribute_values({":now": format_timestamp(now)}),
                )
        except ClientError:
            return False
        return True

    def list_all(self, company_id: str | None = None) -> list[Credential]:
        """Every credential (of one company if given), oldest first: an operator's Scan, never made by a function
        (their roles hold GetItem only). The table is keyed by token hash, so nothing narrower than a Scan finds them.
        """
        names = {"#companyId": "companyId"}
        scan: dict[str, Any] = {"TableName": self._table}
        if company_id is not None:
            # only this company's credentials
            scan["FilterExpression"] = "#companyId = :companyId"
            scan["ExpressionAttributeNames"] = names
            scan["ExpressionAttributeValues"] = to_attribute_values({":companyId": company_id})
        credentials: list[Credential] = []
        while True:
            with translated_errors():
                response = self._client.scan(**scan)
            credentials.extend(Credential.model_validate(from_attribute_values(item)) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            scan["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(credentials, key=lambda credential: (credential.created_at, credential.credential_id))

    def revoke_by_id(self, credential_id: str, now: datetime) -> Credential | None:
        """Revoke the credential with this id (as `list_all` shows it); None when there is none."""
        for credential in self.list_all():
            if credential.credential_id == credential_id:
                return credential if self._revoke_hash(credential.token_hash, now) else None
        return None


class Authenticator:
    """Checks `Authorization: Bearer` against the credential store, caching look-ups in the warm container.

    The cache keeps look-ups for `cache_seconds`: that is how long a revocation takes to bite. Credentials found and
    tokens not found are kept in two bounded caches, so unknown tokens cannot push good credentials out.
    Expiry is checked on every request against the clock, so it bites at once. Both caches are keyed by the token
    itself, held only in this container's memory (as the request's event holds it anyway): a cached request hashes
    nothing, and only a look-up in the store (which keeps hashes, never tokens) needs the token's SHA-256.
    """

    def __init__(
        self,
        store: CredentialStore,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        # until when a found credential is trusted, and the caller it makes (built once, not on every request)
        self._cache: OrderedDict[str, tuple[float, Credential, Principal]] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()

    def authenticate(self, authorization: str | None, required_scope: str, *also_accepted: str) -> Principal:
        """The caller, when it holds `required_scope` or one of `also_accepted` (a write scope that implies a read)."""
        if not authorization:
            raise Unauthorized(
                "missing Authorization header: send `Authorization: Bearer <token>`",
                token_presented=False,
                reason="authorization_missing",
            )
        match = _BEARER.fullmatch(authorization.strip())
        if match is None:
            raise Unauthorized(
                "malformed Authorization header: expected `Bearer <token>`",
                token_presented=True,
                reason="authorization_malformed",
            )
        token = match.group(1)
        found = self._lookup(token)
        if found is None:
            # a token of the documented form that names no credential: unknown (never issued, or deleted)
            if token.startswith(API_KEY_PREFIX):
                raise Unauthorized("unknown or revoked API key", token_presented=True, reason="api_key_unknown")
            raise Unauthorized("unknown or revoked access token", token_presented=True, reason="token_unknown")
        credential, principal = found
        if credential.revoked_at is not None:
            raise Unauthorized("this credential was revoked", token_presented=True, reason="credential_revoked")
        if credential.expires_at is not None and credential.expires_at <= self._wall_clock():
            raise Unauthorized("this credential has expired", token_presented=True, reason="credential_expired")
        if required_scope not in credential.scopes and not any(scope in credential.scopes for scope in also_accepted):
            raise InsufficientScope(required_scope)
        return principal

    def _lookup(self, token: str) -> tuple[Credential, Principal] | None:
        now = self._clock()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(token)
            return cached[1], cached[2]
        unknown_until = self._unknown.get(token)
        if unknown_until is not None and unknown_until > now:
            self._unknown.move_to_end(token)
            return None
        credential = self._store.find(token_hash(token))
        if credential is None:
            if self._cache_seconds > 0:
                _remember(self._unknown, token, now + self._cache_seconds, _UNKNOWN_ENTRIES)
            return None
        principal = Principal(
            company_id=credential.company_id,
            credential_id=credential.credential_id,
            kind=credential.kind,
            scopes=frozenset(credential.scopes),
        )
        if self._cache_seconds > 0:
            _remember(self._cache, token, (now + self._cache_seconds, credential, principal), _CACHE_ENTRIES)
        return credential, principal


def _remember(cache: OrderedDict[str, Any], key: str, value: Any, bound: int) -> None:
    """Put `key` last (most recent) in a bounded LRU cache, dropping the least recently used beyond `bound`."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > bound:
        cache.popitem(last=False)
