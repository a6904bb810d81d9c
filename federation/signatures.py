"""HTTP signatures on ActivityPub requests: draft-cavage-12 as Mastodon uses it, and RFC 9421.

Verification comes in two steps, parse then verify, so that the caller can fetch the key in between.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

# Mastodon (app/lib/signed_request.rb, matches_time_window?): a signature lasts until `expires`,
# or 5 minutes after its creation when absent, never past 12 hours, with 1 hour of clock skew
# either way. A plain Date header is thus good for 1 h 05 min, not the 12 h of its security.md.
DEFAULT_VALIDITY = timedelta(minutes=5)
EXPIRATION_WINDOW_LIMIT = timedelta(hours=12)
CLOCK_SKEW_MARGIN = timedelta(hours=1)

CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
# RFC 9421 §6.2.2; "" stands for a signature without `alg`, whose algorithm follows from the key.
RFC9421_ALGORITHMS = frozenset({"", "rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"})

_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_Scheme = tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]
_PKCS1V15: _Scheme = (padding.PKCS1v15(), hashes.SHA256())
# RFC 9421 §3.3.1: RSASSA-PSS with SHA-512 and a 64-byte salt.
_PSS: _Scheme = (padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512())
# Mastodon verifies every cavage signature, hs2019 included, as RSASSA-PKCS1-v1_5 with SHA-256.
# Without `alg` an RSA key cannot tell v1.5 from PSS, so such RFC 9421 signatures try both.
_RSA_SCHEMES = {
    **{name: [_PKCS1V15] for name in ("rsa-sha256", "hs2019", "rsa-v1_5-sha256")},
    "rsa-pss-sha512": [_PSS],
    "": [_PKCS1V15, _PSS],
}
_ED25519_ALGORITHMS = frozenset({"hs2019", "ed25519", ""})


class SignatureError(Exception):
    """A signature that cannot be accepted; `message` is safe to send back to the peer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CavageSignature:
    """The parameters of a draft-cavage `Signature` header."""

    key_id: str
    algorithm: str
    headers: list[str]
    signature: bytes
    created: int | None = None
    expires: int | None = None


@dataclass(frozen=True)
class ParsedSignature:
    """A signature whose coverage, digest and age are checked, awaiting the signer's key."""

    key_id: str
    algorithm: str
    signing_string: bytes
    signature: bytes


def digest_header(body: bytes) -> str:
    """Return the `Digest` header value for a body, spelled as Mastodon sends it."""
    # snac compares the algorithm name exactly, so keep Mastodon's upper-case `SHA-256=`.
    return "SHA-256=" + _b64(hashlib.sha256(body).digest())


_date_cache: tuple[int, str] = (0, "")


def http_date_now() -> str:
    """Return the current time as an HTTP date (computed once a second: a fan-out signs many)."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        # RFC 7231 §7.1.1.1 IMF-fixdate, which Mastodon reads with Time.httpdate.
        when = datetime.fromtimestamp(second, UTC)
        _date_cache = (second, format_datetime(when, usegmt=True))
    return _date_cache[1]


def sign_request(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
) -> dict[str, str]:
    """Return `headers` with Host, Date, Digest and a draft-cavage `Signature` added."""
    parts = urlsplit(url)
    signed = dict(headers)
    present = {name.lower() for name in signed}
    if "host" not in present:
        signed["Host"] = parts.netloc
    if "date" not in present:
        signed["Date"] = http_date_now()
    names = ["(request-target)", "host", "date"]
    # Mastodon refuses a POST whose signature leaves out `digest`, even with an empty body.
    if body is not None or method.upper() == "POST":
        if "digest" not in present:
            signed["Digest"] = digest_header(body or b"")
        names.append("digest")
    key = _load_private_key(private_key_pem)
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "hs2019"
    template = CavageSignature(key_id, algorithm, names, b"")
    signing_string = cavage_signing_string(method, _path_with_query(parts), signed, template)
    signed["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(names)}",'
        f'signature="{_b64(_sign(key, signing_string))}"'
    )
    return signed


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a draft-cavage `Signature` header, raising SignatureError when it is malformed."""
    # Mastodon (app/lib/signature_parser.rb) tolerates a stray `Signature ` prefix.
    text = value.strip().removeprefix("Signature ").strip()
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _CAVAGE_PARAM.match(text, pos)
        if match is None:
            raise SignatureError("Malformed Signature header")
        name, quoted, token = match.groups()
        if name in params:  # Mastodon 4.5.5 refuses duplicates too.
            raise SignatureError(f"Duplicate {name} in Signature header")
        params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
        pos = match.end()
    key_id, encoded = params.get("keyId"), params.get("signature")
    if not key_id or not encoded:
        raise SignatureError("Signature header needs keyId and signature")
    # Mastodon: an absent algorithm means hs2019, whose default coverage is (created).
    algorithm = params.get("algorithm", "hs2019").lower()
    default_headers = "(created)" if algorithm == "hs2019" else "date"
    return CavageSignature(
        key_id=key_id,
        algorithm=algorithm,
        headers=params.get("headers", default_headers).lower().split(),
        signature=_b64decode(encoded, "Signature is not valid base64"),
        created=_unix_seconds(params.get("created"), "created"),
        expires=_unix_seconds(params.get("expires"), "expires"),
    )


def cavage_signing_string(
    method: str, path_with_query: str, headers: Mapping[str, str], signature: CavageSignature
) -> bytes:
    """Build the draft-cavage-12 §2.3 signing string for the headers a signature covers."""
    lookup = _lower_keys(headers)
    lines = []
    for name in signature.headers:
        if name == "(request-target)":
            value = f"{method.lower()} {path_with_query}"
        elif name in ("(created)", "(expires)"):
            # draft-cavage-12 §2.3 and Mastodon: these pseudo-headers exist only for hs2019.
            number = signature.created if name == "(created)" else signature.expires
            if signature.algorithm != "hs2019" or number is None:
                raise SignatureError(f"{name} needs algorithm hs2019 and its parameter")
            value = str(number)
        elif name in lookup:
            value = lookup[name].strip()
        else:
            raise SignatureError(f"Signed header {name} is missing")
        lines.append(f"{name}: {value}")
    return "\n".join(lines).encode()


def parse_request_signature(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime | None = None,
    *,
    scheme: str = "https",
) -> ParsedSignature:
    """Check a request's signature coverage, body digest and age; return what to verify."""
    lookup = _lower_keys(headers)
    now = now or datetime.now(UTC)
    # Mastodon demands a covered digest on every POST, whatever its body.
    has_body = method.upper() == "POST" or bool(body)
    # Mastodon picks RFC 9421 as soon as Signature-Input is present.
    if "signature-input" in lookup:
        target_uri = f"{scheme}://{lookup.get('host', '')}{path_with_query}"
        return _parse_rfc9421(method, target_uri, lookup, body or b"", has_body, now)
    if "signature" not in lookup:
        raise SignatureError("Request is not signed")
    signature = parse_signature_header(lookup["signature"])
    if signature.algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureError("Unsupported algorithm (rsa-sha256 and hs2019 are supported)")
    covered = set(signature.headers)
    if not {"(request-target)", "host"} <= covered or not covered & {"date", "(created)"}:
        raise SignatureError("Signature must cover (request-target), host and date or (created)")
    if has_body and "digest" not in covered:
        raise SignatureError("Signature must cover digest on a request with a body")
    signing_string = cavage_signing_string(method, path_with_query, lookup, signature)
    if "digest" in covered:
        _check_digest(_cavage_digests(lookup["digest"]), body or b"", "Digest")
    if signature.algorithm == "hs2019" and signature.created is not None:
        created = _from_unix(signature.created)
    else:
        created = _http_date(lookup.get("date"))
    _check_time_window(created, signature.expires, now)
    return ParsedSignature(
        signature.key_id, signature.algorithm, signing_string, signature.signature
    )


def verify_signature(parsed: ParsedSignature, public_key_pem: str) -> None:
    """Raise SignatureError unless the signature verifies with the signer's public key."""
    try:
        # Accepts SPKI and the PKCS#1 `BEGIN RSA PUBLIC KEY` that Mobilizon publishes.
        key = serialization.load_pem_public_key(public_key_pem.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureError("The signer's public key is unusable") from None
    data, signature = parsed.signing_string, parsed.signature
    try:
        if isinstance(key, rsa.RSAPublicKey) and parsed.algorithm in _RSA_SCHEMES:
            for pad, algorithm in _RSA_SCHEMES[parsed.algorithm]:
                try:
                    key.verify(signature, data, pad, algorithm)
                    return
                except InvalidSignature:
                    continue
            raise InvalidSignature
        if isinstance(key, ed25519.Ed25519PublicKey) and parsed.algorithm in _ED25519_ALGORITHMS:
            key.verify(signature, data)
            return
    except InvalidSignature:
        raise SignatureError("Signature does not verify") from None
    raise SignatureError("The signer's key does not fit the signature algorithm")


def sign_request_rfc9421(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    components: Sequence[str] | None = None,
    created: int | None = None,
    label: str = "sig1",
    include_alg: bool = True,
) -> dict[str, str]:
    """Return `headers` with Content-Digest, Signature-Input and an RFC 9421 Signature added."""
    signed = dict(headers)
    has_body = body is not None or method.upper() == "POST"
    if has_body and "content-digest" not in {name.lower() for name in signed}:
        # RFC 9530 §2: a structured dictionary; Mastodon 4.7 sends sha-256.
        signed["Content-Digest"] = f"sha-256=:{_b64(hashlib.sha256(body or b'').digest())}:"
    if components is None:
        # What Mastodon 4.7 covers when it retries a delivery with RFC 9421 (#39756).
        components = ["@method", "@target-uri"] + (["content-digest"] if has_body else [])
    key = _load_private_key(private_key_pem)
    alg = "rsa-v1_5-sha256" if isinstance(key, rsa.RSAPrivateKey) else "ed25519"
    created = int(time.time()) if created is None else created
    # RFC 8941 §4.1.1.1 serialization of the inner list and its parameters.
    signature_params = "(" + " ".join(f'"{name}"' for name in components) + ")"
    signature_params += f';created={created};keyid="{key_id}"' + (
        f';alg="{alg}"' if include_alg else ""
    )
    base = rfc9421_signature_base(method, url, signed, components, signature_params)
    signed["Signature-Input"] = f"{label}={signature_params}"
    signed["Signature"] = f"{label}=:{_b64(_sign(key, base))}:"
    return signed


def canonical_authority(netloc: str, scheme: str) -> str:
    """Return a host[:port] lower-cased, without the scheme's default port (RFC 9421 §2.2.3)."""
    default_port = {"https": ":443", "http": ":80"}.get(scheme, "")
    return netloc.lower().removesuffix(default_port) if default_port else netloc.lower()


def rfc9421_signature_base(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    components: Sequence[str],
    signature_params: str,
) -> bytes:
    """Build the RFC 9421 §2.5 signature base of a request for the given covered components."""
    url = urlsplit(target_uri)
    # RFC 9421 §2.2.3: @authority is lower-cased and leaves out the scheme's default port.
    authority = canonical_authority(url.netloc, url.scheme)
    derived = {
        "@method": method,
        "@target-uri": target_uri,
        "@authority": authority,
        "@path": url.path or "/",
        "@query": f"?{url.query}",
        "@request-target": _path_with_query(url),
    }
    lookup = _lower_keys(headers)
    lines = []
    for name in components:
        if name in derived:
            value = derived[name]
        elif name.startswith("@"):
            raise SignatureError(f"Unsupported derived component {name}")
        elif name in lookup:
            value = lookup[name].strip()
        else:
            raise SignatureError(f"Signed header {name} is missing")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines).encode()


def _parse_rfc9421(
    method: str, target_uri: str, lookup: dict[str, str], body: bytes, has_body: bool, now: datetime
) -> ParsedSignature:
    inputs = _parse_dictionary(lookup["signature-input"])
    signatures = _parse_dictionary(lookup.get("signature", ""))
    if not inputs:
        raise SignatureError("Signature-Input is empty")
    # Mastodon checks one signature only; we check the first label.
    label, (covered, params, signature_params) = next(iter(inputs.items()))
    value = signatures.get(label, (None, {}, ""))[0]
    if not isinstance(covered, list) or not isinstance(value, bytes) or not value:
        raise SignatureError(f"Signature {label} is missing or malformed")
    components = [item for item, extra in covered if isinstance(item, str) and not extra]
    names = set(components)
    if len(names) != len(covered):
        raise SignatureError("Covered components must be distinct and without parameters")
    key_id, alg, created = params.get("keyid"), params.get("alg", ""), _int_param(params, "created")
    if not isinstance(key_id, str) or not key_id or created is None:
        raise SignatureError("Signature-Input needs keyid and created")
    if not isinstance(alg, str) or alg not in RFC9421_ALGORITHMS:
        raise SignatureError("Unsupported signature algorithm")
    # Mastodon asks for @method and @target-uri; @path with @query (or @request-target) and
    # @authority pin the same request.
    path_and_query = "@path" in names and ("@query" in names or not urlsplit(target_uri).query)
    target = path_and_query or names & {"@target-uri", "@request-target"}
    if "@method" not in names or not target or not names & {"@target-uri", "@authority", "host"}:
        raise SignatureError("Signature must cover @method, @target-uri and @authority")
    if has_body and "content-digest" not in names:
        raise SignatureError("Signature must cover content-digest on a request with a body")
    base = rfc9421_signature_base(method, target_uri, lookup, components, signature_params)
    if "content-digest" in names:
        digests = _parse_dictionary(lookup["content-digest"]).items()
        offered = {name: item for name, (item, _, _) in digests if isinstance(item, bytes)}
        _check_digest(offered, body, "Content-Digest")
    _check_time_window(_from_unix(created), _int_param(params, "expires"), now)
    return ParsedSignature(key_id, alg, base, value)


def _check_digest(offered: Mapping[str, bytes], body: bytes, header: str) -> None:
    known = [name for name in offered if name in _DIGESTS]
    if not known:
        raise SignatureError(f"{header} must use sha-256 or sha-512")
    for name in known:
        if offered[name] != _DIGESTS[name](body).digest():
            raise SignatureError(f"{header} does not match the body")


def _cavage_digests(value: str) -> dict[str, bytes]:
    # Mastodon splits on commas and lower-cases the names: bovine sends `sha-256=`.
    offered = {}
    for part in value.split(","):
        name, _, encoded = part.strip().partition("=")
        if name.strip().lower() in _DIGESTS:
            offered[name.strip().lower()] = _b64decode(encoded.strip(), "Invalid Digest value")
    return offered


def _check_time_window(created: datetime, expires: int | None, now: datetime) -> None:
    # Mastodon (app/lib/signed_request.rb, matches_time_window?).
    end = created + DEFAULT_VALIDITY if expires is None else _from_unix(expires)
    end = min(end, created + EXPIRATION_WINDOW_LIMIT)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    if created > now + CLOCK_SKEW_MARGIN or now > end + CLOCK_SKEW_MARGIN:
        raise SignatureError("Signed request date outside acceptable time window")


def _http_date(value: str | None) -> datetime:
    if value is None:
        raise SignatureError("Date header missing")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise SignatureError("Invalid Date header") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _unix_seconds(value: str | None, name: str) -> int | None:
    # draft-cavage-12 §2.1.4 allows sub-second decimals; Mastodon keeps the integer part.
    if value is None:
        return None
    if not re.fullmatch(r"\d{1,10}(\.\d+)?", value):
        raise SignatureError(f"Invalid {name} parameter")
    return int(value.split(".")[0])


def _int_param(params: _Params, name: str) -> int | None:
    value = params.get(name)
    if value is not None and (type(value) is not int or not 0 <= value < 10**10):
        raise SignatureError(f"Invalid {name} parameter")
    return value if isinstance(value, int) else None


def _from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _path_with_query(url: SplitResult) -> str:
    return (url.path or "/") + (f"?{url.query}" if url.query else "")


@functools.lru_cache(maxsize=512)
def _load_private_key(pem: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    # Loading validates an RSA key (~50 ms of CPU); signing takes ~1 ms. A fan-out signs with
    # one key thousands of times: load each key once (bench/fanout.py: 1,000 inboxes 85 s → 18 s).
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("Only RSA and Ed25519 keys can sign requests")
    return key


def _sign(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, *_PKCS1V15)
    return key.sign(data)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, message: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(message) from None


_CAVAGE_PARAM = re.compile(
    r'\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s",]+))\s*(?:,|$)'
)

# RFC 8941 §3, limited to what signatures and digests carry: no decimals, no nested lists.
_Bare = int | str | bytes | bool
_Params = dict[str, _Bare]
_Member = tuple[_Bare | list[tuple[_Bare, _Params]], _Params, str]
_SF_KEY = r"[a-z*][a-z0-9_.*-]*"
_SF_ITEM = (
    r'"(?:[ !#-\[\]-~]|\\["\\])*"|:[A-Za-z0-9+/]*=*:|\?[01]|-?\d{1,15}(?![.\d])'
    r"|[A-Za-z*][!#$%&'*+.^_`|~0-9A-Za-z:/-]*"
)
_SF_PARAMS = rf"(?:; *{_SF_KEY}(?:=(?:{_SF_ITEM}))?)*"
_SF_INNER_ITEM = re.compile(rf"({_SF_ITEM})({_SF_PARAMS})")
_SF_PARAM = re.compile(rf"; *({_SF_KEY})(?:=({_SF_ITEM}))?")
_SF_MEMBER = re.compile(
    rf"({_SF_KEY})(?:=(\( *(?:(?:{_SF_ITEM}){_SF_PARAMS}(?: +|(?=\))))*\)|{_SF_ITEM}))?"
    rf"({_SF_PARAMS})[ \t]*(?:,[ \t]*(?=\S)|\Z)"
)


def _parse_dictionary(text: str) -> dict[str, _Member]:
    # Each member keeps its text too: RFC 9421 §2.3 signs the Signature-Input member as sent,
    # which a conforming signer has serialized canonically (RFC 8941 §4.1).
    text, pos, members = text.strip(" \t"), 0, {}
    while pos < len(text):
        match = _SF_MEMBER.match(text, pos)
        if match is None:
            raise SignatureError("Malformed structured header")
        key, value, params = match.groups()
        parsed: _Bare | list[tuple[_Bare, _Params]] = True
        if value and value.startswith("("):
            parsed = [(_sf_item(i), _sf_params(p)) for i, p in _SF_INNER_ITEM.findall(value)]
        elif value:
            parsed = _sf_item(value)
        members[key] = (parsed, _sf_params(params), text[match.start(2) : match.end(3)])
        pos = match.end()
    return members


def _sf_params(text: str) -> _Params:
    return {key: _sf_item(value) if value else True for key, value in _SF_PARAM.findall(text)}


def _sf_item(text: str) -> _Bare:
    if text[0] == '"':
        return re.sub(r'\\(["\\])', r"\1", text[1:-1])
    if text[0] == ":":
        return _b64decode(text[1:-1], "Malformed structured header")
    if text[0] == "?":
        return text == "?1"
    # Tokens come back as plain strings: covered components must be strings anyway.
    return int(text) if text[0] in "-0123456789" else text
