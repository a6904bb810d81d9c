"""Tests for federation.signatures: round trips, Mastodon's rules, and the specs' own vectors."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from starlette.datastructures import Headers

from federation.signatures import (
    CavageSignature,
    ParsedSignature,
    SignatureError,
    cavage_signing_string,
    digest_header,
    parse_request_signature,
    parse_signature_header,
    rfc9421_signature_base,
    sign_request,
    sign_request_rfc9421,
    verify_signature,
)

KEY_ID = "https://social.example/users/alice#main-key"
INBOX = "https://groups.example/inbox"
BODY = b'{"type": "Follow", "actor": "https://social.example/users/alice"}'


def rsa_keys(name: str = "alice") -> tuple[str, str]:
    """Return a (private, public) PEM pair for an RSA key, one key per name and run."""
    return _rsa_keys(name)


@cache
def _rsa_keys(name: str) -> tuple[str, str]:
    return pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@cache
def ed25519_keys() -> tuple[str, str]:
    """Return a (private, public) PEM pair for an Ed25519 key made once per run."""
    return pem_pair(ed25519.Ed25519PrivateKey.generate())


def pem_pair(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> tuple[str, str]:
    """Return the PKCS#8 and SubjectPublicKeyInfo PEM texts of a private key."""
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


def http_date(moment: datetime) -> str:
    """Format a moment as an RFC 7231 Date header."""
    return format_datetime(moment, usegmt=True)


def signed_post(body: bytes = BODY, key: str = "alice", **headers: str) -> dict[str, str]:
    """Return the headers of a POST to INBOX signed with draft-cavage by the named RSA key."""
    headers = {"Content-Type": "application/activity+json", **headers}
    return sign_request("POST", INBOX, headers, body, KEY_ID, rsa_keys(key)[0])


def parse_post(
    headers: Mapping[str, str], body: bytes = BODY, now: datetime | None = None
) -> ParsedSignature:
    """Parse the signature of a POST to /inbox."""
    return parse_request_signature("POST", "/inbox", headers, body, now)


# --- draft-cavage, as Mastodon signs and verifies it ---------------------------------------------


def test_digest_header_is_spelled_like_mastodon() -> None:
    # Mastodon spec/requests/signature_verification_spec.rb: "Hello world".
    expected = "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
    assert digest_header(b"Hello world") == expected


def test_signed_get_verifies_and_covers_target_host_and_date() -> None:
    headers = sign_request(
        "GET", "https://social.example/users/bob?page=2", {}, None, KEY_ID, rsa_keys()[0]
    )

    assert headers["Host"] == "social.example"
    assert "Digest" not in headers
    assert re.fullmatch(
        r'keyId="[^"]+",algorithm="rsa-sha256",headers="\(request-target\) host date",'
        r'signature="[A-Za-z0-9+/]+=*"',
        headers["Signature"],
    )
    parsed = parse_request_signature("GET", "/users/bob?page=2", headers, None)
    verify_signature(parsed, rsa_keys()[1])
    assert parsed.key_id == KEY_ID
    assert parsed.algorithm == "rsa-sha256"


def test_signed_post_verifies_and_covers_digest() -> None:
    headers = signed_post()

    assert headers["Digest"] == digest_header(BODY)
    assert headers["Digest"].startswith("SHA-256=")
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    verify_signature(parse_post(headers), rsa_keys()[1])


def test_signing_keeps_the_callers_date_and_host() -> None:
    date = http_date(datetime.now(UTC))
    headers = signed_post(Date=date, Host="groups.example:8443")

    assert headers["Date"] == date
    assert headers["Host"] == "groups.example:8443"
    verify_signature(parse_post(headers), rsa_keys()[1])


def test_tampered_body_is_rejected_as_a_digest_mismatch() -> None:
    with pytest.raises(SignatureError, match="Digest does not match the body"):
        parse_post(signed_post(), body=BODY.replace(b"Follow", b"Block"))


def test_tampered_signed_header_fails_verification() -> None:
    headers = {**signed_post(), "Host": "other.example"}

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parse_post(headers), rsa_keys()[1])


def test_signature_from_another_key_fails_verification() -> None:
    parsed = parse_post(signed_post(key="mallory"))

    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, rsa_keys("alice")[1])


def test_post_whose_signature_leaves_out_digest_is_rejected() -> None:
    headers = sign_request("GET", INBOX, {}, None, KEY_ID, rsa_keys()[0])

    with pytest.raises(SignatureError, match="must cover digest"):
        parse_post({**headers, "Digest": digest_header(BODY)})


def test_signature_that_leaves_out_host_is_rejected() -> None:
    headers = signed_post()
    headers["Signature"] = headers["Signature"].replace(" host date", " date")

    with pytest.raises(SignatureError, match="must cover"):
        parse_post(headers)


@pytest.mark.parametrize(
    "offset",
    [timedelta(hours=-13), timedelta(hours=-2), timedelta(hours=2)],
    ids=["13 hours old", "2 hours old", "2 hours ahead"],
)
def test_date_outside_mastodons_window_is_rejected(offset: timedelta) -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    headers = signed_post(Date=http_date(now + offset))

    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_post(headers, now=now)


@pytest.mark.parametrize(
    "offset", [timedelta(hours=-1), timedelta(minutes=50)], ids=["1 hour old", "50 minutes ahead"]
)
def test_date_within_the_clock_skew_margin_is_accepted(offset: timedelta) -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    headers = signed_post(Date=http_date(now + offset))

    verify_signature(parse_post(headers, now=now), rsa_keys()[1])


def test_unparseable_date_is_rejected() -> None:
    with pytest.raises(SignatureError, match="Invalid Date header"):
        parse_post(signed_post(Date="yesterday, around noon"))


def test_unsigned_request_is_rejected() -> None:
    with pytest.raises(SignatureError, match="not signed"):
        parse_post({"Host": "groups.example", "Date": http_date(datetime.now(UTC))})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "needs keyId and signature"),
        ("garbage", "Malformed Signature header"),
        ('keyId="https://social.example/actor#main-key"', "needs keyId and signature"),
        ('signature="c2lnbmF0dXJl"', "needs keyId and signature"),
        ('keyId="k",signature="not base64!"', "not valid base64"),
        ('keyId="k",keyId="j",signature="c2lnbmF0dXJl"', "Duplicate keyId"),
        ('keyId="k,signature="c2lnbmF0dXJl"', "Malformed Signature header"),
        ('keyId="k",,signature="c2lnbmF0dXJl"', "Malformed Signature header"),
        ('keyId="k",signature="c2lnbmF0dXJl",created=soon', "Invalid created parameter"),
    ],
    ids=[
        "empty",
        "garbage",
        "no signature",
        "no keyId",
        "bad base64",
        "duplicate keyId",
        "unterminated quote",
        "empty parameter",
        "non-numeric created",
    ],
)
def test_malformed_signature_header_raises_signature_error(value: str, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        parse_signature_header(value)
    with pytest.raises(SignatureError, match=message):
        parse_post({**signed_post(), "Signature": value})


def test_signature_header_parsing_follows_mastodons_leniency() -> None:
    # Mastodon's SignatureParser: a stray "Signature " prefix and token values are accepted.
    parsed = parse_signature_header('Signature keyId="k", algorithm=rsa-sha256, signature="YQ=="')

    assert parsed == CavageSignature("k", "rsa-sha256", ["date"], b"a")


def test_signature_without_algorithm_is_hs2019_covering_created() -> None:
    parsed = parse_signature_header('keyId="k",created=1700000000,signature="YQ=="')

    assert parsed.algorithm == "hs2019"
    assert parsed.headers == ["(created)"]
    assert parsed.created == 1700000000


def test_hs2019_signature_over_created_verifies_and_dates_the_request() -> None:
    private, public = rsa_keys()
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    template = CavageSignature(
        KEY_ID, "hs2019", ["(request-target)", "host", "(created)", "digest"], b"", 1740830400
    )
    headers = {"Host": "groups.example", "Digest": digest_header(BODY)}
    signing_string = cavage_signing_string("POST", "/inbox", headers, template)
    key = serialization.load_pem_private_key(private.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    value = base64.b64encode(key.sign(signing_string, padding.PKCS1v15(), SHA256())).decode()
    headers["Signature"] = (
        f'keyId="{KEY_ID}",algorithm="hs2019",created=1740830400,'
        f'headers="(request-target) host (created) digest",signature="{value}"'
    )

    verify_signature(parse_post(headers, now=now), public)
    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_post(headers, now=now + timedelta(hours=2))


def test_created_pseudo_header_is_refused_for_rsa_sha256() -> None:
    headers = signed_post()
    headers["Signature"] = headers["Signature"].replace(" date ", " (created) ")

    with pytest.raises(SignatureError, match=r"\(created\) needs algorithm hs2019"):
        parse_post(headers)


@pytest.mark.parametrize(
    "digest",
    [
        "sha-256=" + digest_header(BODY).removeprefix("SHA-256="),
        "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode(),
    ],
    ids=["lower-case sha-256 (bovine)", "SHA-512"],
)
def test_digest_in_other_spellings_is_accepted(digest: str) -> None:
    verify_signature(parse_post(signed_post(Digest=digest)), rsa_keys()[1])


@pytest.mark.parametrize(
    ("digest", "message"),
    [("SHA-256=@@@", "Invalid Digest value"), ("MD5=Xr4ilOzQ4PCOq3aQ0qbuaQ==", "sha-256 or")],
)
def test_unusable_digest_is_rejected(digest: str, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        parse_post(signed_post(Digest=digest))


def test_headers_are_looked_up_whatever_their_case() -> None:
    raw = [(name.lower().encode(), value.encode()) for name, value in signed_post().items()]

    verify_signature(parse_post(Headers(raw=raw)), rsa_keys()[1])


def test_pkcs1_public_key_as_published_by_mobilizon_verifies() -> None:
    key = serialization.load_pem_public_key(rsa_keys()[1].encode())
    pkcs1 = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)

    assert pkcs1.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    verify_signature(parse_post(signed_post()), pkcs1.decode())


def test_unusable_public_key_is_rejected() -> None:
    with pytest.raises(SignatureError, match="public key is unusable"):
        verify_signature(parse_post(signed_post()), "-----BEGIN PUBLIC KEY-----\nAAAA\n")


def test_ed25519_key_signs_cavage_as_hs2019() -> None:
    private, public = ed25519_keys()
    headers = sign_request("POST", INBOX, {}, BODY, KEY_ID, private)

    assert 'algorithm="hs2019"' in headers["Signature"]
    verify_signature(parse_post(headers), public)


def test_key_of_the_wrong_type_is_refused() -> None:
    parsed = parse_post(signed_post())

    with pytest.raises(SignatureError, match="does not fit"):
        verify_signature(parsed, ed25519_keys()[1])


# --- draft-cavage-http-signatures-12, appendix C -------------------------------------------------

# Appendix C: the public half of the "Test" RSA key.
CAVAGE_TEST_KEY = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
CAVAGE_PATH = "/foo?param=value&pet=dog"
CAVAGE_DATE = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
CAVAGE_BODY = b'{"hello": "world"}'
CAVAGE_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
# C.2 "Basic Test".
CAVAGE_BASIC_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe"
    "8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
# C.3 "All Headers Test". The value was computed over the header list below (drafts up to -10);
# the -11/-12 text adds "(created) (expires)" to that list without re-signing, and then it does
# not verify.
CAVAGE_ALL_HEADERS_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEU"
    "HFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)


def cavage_request(headers: str, signature: str) -> dict[str, str]:
    """Return the appendix C request headers with a Signature from the "Test" key."""
    value = f'keyId="Test",algorithm="rsa-sha256",headers="{headers}",signature="{signature}"'
    return {**CAVAGE_HEADERS, "Signature": value}


def test_cavage_basic_test_vector_verifies() -> None:
    headers = cavage_request("(request-target) host date", CAVAGE_BASIC_SIGNATURE)
    signature = parse_signature_header(headers["Signature"])
    signing_string = cavage_signing_string("POST", CAVAGE_PATH, headers, signature)

    assert signing_string == (
        b"(request-target): post /foo?param=value&pet=dog\n"
        b"host: example.com\n"
        b"date: Sun, 05 Jan 2014 21:31:40 GMT"
    )
    parsed = ParsedSignature("Test", "rsa-sha256", signing_string, signature.signature)
    verify_signature(parsed, CAVAGE_TEST_KEY)


def test_cavage_basic_test_vector_is_refused_as_a_post_without_digest() -> None:
    headers = cavage_request("(request-target) host date", CAVAGE_BASIC_SIGNATURE)

    with pytest.raises(SignatureError, match="must cover digest"):
        parse_request_signature("POST", CAVAGE_PATH, headers, CAVAGE_BODY, CAVAGE_DATE)


def test_cavage_all_headers_test_vector_verifies() -> None:
    covered = "(request-target) host date content-type digest content-length"
    headers = cavage_request(covered, CAVAGE_ALL_HEADERS_SIGNATURE)

    parsed = parse_request_signature("POST", CAVAGE_PATH, headers, CAVAGE_BODY, CAVAGE_DATE)
    verify_signature(parsed, CAVAGE_TEST_KEY)
    assert parsed.key_id == "Test"


# --- RFC 9421 ------------------------------------------------------------------------------------


def test_rfc9421_signed_post_round_trips_with_mastodons_components() -> None:
    private, public = rsa_keys()
    headers = sign_request_rfc9421("POST", INBOX, {"Host": "groups.example"}, BODY, KEY_ID, private)

    assert headers["Content-Digest"].startswith("sha-256=:")
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri" "content-digest")')
    assert headers["Signature-Input"].endswith(f';keyid="{KEY_ID}";alg="rsa-v1_5-sha256"')
    parsed = parse_post(headers)
    verify_signature(parsed, public)
    assert (parsed.key_id, parsed.algorithm) == (KEY_ID, "rsa-v1_5-sha256")


def test_rfc9421_signed_get_round_trips_with_ed25519() -> None:
    private, public = ed25519_keys()
    url = "https://social.example/users/bob?page=2"
    headers = sign_request_rfc9421("GET", url, {"Host": "social.example"}, None, KEY_ID, private)

    assert "Content-Digest" not in headers
    verify_signature(parse_request_signature("GET", "/users/bob?page=2", headers, None), public)


def test_rfc9421_target_uri_follows_the_scheme_the_request_came_in_on() -> None:
    private, public = rsa_keys()
    url = "http://127.0.0.1:8001/inbox"
    headers = sign_request_rfc9421("POST", url, {"Host": "127.0.0.1:8001"}, BODY, KEY_ID, private)

    parsed = parse_request_signature("POST", "/inbox", headers, BODY, scheme="http")
    verify_signature(parsed, public)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parse_post(headers), public)


def test_rfc9421_tampered_body_is_rejected_as_a_digest_mismatch() -> None:
    headers = sign_request_rfc9421("POST", INBOX, {}, BODY, KEY_ID, rsa_keys()[0])

    with pytest.raises(SignatureError, match="Content-Digest does not match the body"):
        parse_post(headers, body=b"{}")


def test_rfc9421_post_whose_signature_leaves_out_content_digest_is_rejected() -> None:
    components = ["@method", "@target-uri"]
    headers = sign_request_rfc9421(
        "POST", INBOX, {}, BODY, KEY_ID, rsa_keys()[0], components=components
    )

    with pytest.raises(SignatureError, match="must cover content-digest"):
        parse_post(headers)


@pytest.mark.parametrize(
    "offset", [timedelta(hours=-13), timedelta(hours=2)], ids=["13 hours old", "2 hours ahead"]
)
def test_rfc9421_created_outside_mastodons_window_is_rejected(offset: timedelta) -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    created = int((now + offset).timestamp())
    headers = sign_request_rfc9421("POST", INBOX, {}, BODY, KEY_ID, rsa_keys()[0], created=created)

    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_post(headers, now=now)


GOOD_INPUT = 'sig1=("@method" "@target-uri" "content-digest");created=1740830400;keyid="k"'


MALFORMED = "Malformed structured header"
UNNAMED = "Signature sig1 is missing or malformed"
COMPONENTS = "Covered components must be distinct and without parameters"


@pytest.mark.parametrize(
    ("signature_input", "signature", "message"),
    [
        ("sig1=", "sig1=:YQ==:", MALFORMED),
        ('sig1=("@method" "@target-uri"', "sig1=:YQ==:", MALFORMED),
        ('sig1=("@method" "@target-uri");keyid="k"', "sig1=:YQ==:", "needs keyid and created"),
        ('sig1=("@method" "@target-uri");created=1740830400', "sig1=:YQ==:", "needs keyid"),
        (GOOD_INPUT + ';alg="hmac-sha256"', "sig1=:YQ==:", "Unsupported signature algorithm"),
        (GOOD_INPUT.replace('"@method"', '"@method" "@method"'), "sig1=:YQ==:", COMPONENTS),
        (GOOD_INPUT.replace('"@method"', '"@query-param";name="x"'), "sig1=:YQ==:", COMPONENTS),
        (GOOD_INPUT + ",", "sig1=:YQ==:", MALFORMED),
        (GOOD_INPUT, "sig2=:YQ==:", UNNAMED),
        (GOOD_INPUT, 'sig1="YQ=="', UNNAMED),
        (GOOD_INPUT, "sig1=:not base64!:", MALFORMED),
        ("Sig1=garbage", "garbage", MALFORMED),
    ],
    ids=[
        "no value",
        "unclosed list",
        "no created",
        "no keyid",
        "unsupported alg",
        "repeated component",
        "component with parameters",
        "trailing comma",
        "other label",
        "signature not bytes",
        "signature bad base64",
        "garbage",
    ],
)
def test_malformed_rfc9421_headers_raise_signature_error(
    signature_input: str, signature: str, message: str
) -> None:
    headers = {
        "Host": "groups.example",
        "Content-Digest": f"sha-256=:{digest_header(BODY).removeprefix('SHA-256=')}:",
        "Signature-Input": signature_input,
        "Signature": signature,
    }

    with pytest.raises(SignatureError, match=message):
        parse_post(headers, now=datetime.fromtimestamp(1740830400, UTC))


def test_rfc9421_authority_is_lower_cased_without_the_default_port() -> None:
    def authority(url: str) -> bytes:
        return rfc9421_signature_base("GET", url, {}, ["@authority"], "()").split(b"\n")[0]

    assert authority("https://Groups.Example:443/inbox") == b'"@authority": groups.example'
    assert authority("http://127.0.0.1:8001/inbox") == b'"@authority": 127.0.0.1:8001'


def test_signed_header_values_are_trimmed() -> None:
    headers = {"Content-Type": "  application/activity+json \t"}
    signature = CavageSignature(KEY_ID, "rsa-sha256", ["content-type"], b"")

    assert cavage_signing_string("POST", "/inbox", headers, signature) == (
        b"content-type: application/activity+json"
    )
    assert rfc9421_signature_base("POST", INBOX, headers, ["content-type"], "()").startswith(
        b'"content-type": application/activity+json\n'
    )


# RFC 9421 appendix B.1.2 "test-key-rsa-pss", public half.
RFC9421_RSA_PSS_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
"""
# RFC 9421 appendix B.1.4 "test-key-ed25519".
RFC9421_ED25519_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC9421_ED25519_KEY = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
# RFC 9421 appendix B.2: the test request `POST /foo?param=Value&Pet=dog`.
RFC9421_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC9421_BODY = b'{"hello": "world"}'
RFC9421_CREATED = datetime.fromtimestamp(1618884473, UTC)
RFC9421_CONTENT_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+"
    "AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
)
RFC9421_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": RFC9421_CONTENT_DIGEST,
    "Content-Length": "18",
}
B26_COMPONENTS = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
B26_PARAMS = (
    '("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)


def test_rfc9421_b26_ed25519_vector_verifies() -> None:
    base = rfc9421_signature_base("POST", RFC9421_URL, RFC9421_HEADERS, B26_COMPONENTS, B26_PARAMS)

    assert base == (
        b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        b'"@method": POST\n'
        b'"@path": /foo\n'
        b'"@authority": example.com\n'
        b'"content-type": application/json\n'
        b'"content-length": 18\n'
        b'"@signature-params": ' + B26_PARAMS.encode()
    )
    parsed = ParsedSignature("test-key-ed25519", "", base, base64.b64decode(B26_SIGNATURE))
    verify_signature(parsed, RFC9421_ED25519_KEY)


def test_rfc9421_signing_reproduces_the_b26_ed25519_vector() -> None:
    headers = sign_request_rfc9421(
        "POST",
        RFC9421_URL,
        RFC9421_HEADERS,
        RFC9421_BODY,
        "test-key-ed25519",
        RFC9421_ED25519_PRIVATE_KEY,
        components=B26_COMPONENTS,
        created=1618884473,
        label="sig-b26",
        include_alg=False,
    )

    assert headers["Signature-Input"] == f"sig-b26={B26_PARAMS}"
    assert headers["Signature"] == f"sig-b26=:{B26_SIGNATURE}:"


def test_rfc9421_b26_vector_is_refused_for_leaving_out_query_and_content_digest() -> None:
    headers = {
        **RFC9421_HEADERS,
        "Signature-Input": f"sig-b26={B26_PARAMS}",
        "Signature": f"sig-b26=:{B26_SIGNATURE}:",
    }

    with pytest.raises(SignatureError, match="must cover"):
        parse_request_signature(
            "POST", "/foo?param=Value&Pet=dog", headers, RFC9421_BODY, RFC9421_CREATED
        )


def test_rfc9421_b23_rsa_pss_full_coverage_vector_verifies() -> None:
    covered = '"date" "@method" "@path" "@query" "@authority" "content-type" "content-digest"'
    params = f'({covered} "content-length");created=1618884473;keyid="test-key-rsa-pss"'
    signature = (
        "bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5"
        "p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aY"
        "A2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+Q"
        "IF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA=="
    )
    headers = {
        **RFC9421_HEADERS,
        "Signature-Input": f"sig-b23={params}",
        "Signature": f"sig-b23=:{signature}:",
    }

    parsed = parse_request_signature(
        "POST", "/foo?param=Value&Pet=dog", headers, RFC9421_BODY, RFC9421_CREATED
    )
    assert parsed.signing_string == (
        b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
        b'"@method": POST\n'
        b'"@path": /foo\n'
        b'"@query": ?param=Value&Pet=dog\n'
        b'"@authority": example.com\n'
        b'"content-type": application/json\n'
        b'"content-digest": ' + RFC9421_CONTENT_DIGEST.encode() + b"\n"
        b'"content-length": 18\n'
        b'"@signature-params": ' + params.encode()
    )
    verify_signature(parsed, RFC9421_RSA_PSS_KEY)
    with pytest.raises(SignatureError, match="Content-Digest does not match the body"):
        parse_request_signature(
            "POST", "/foo?param=Value&Pet=dog", headers, b'{"hello": "moon"}', RFC9421_CREATED
        )


def test_rfc9421_b21_minimal_vector_verifies_but_covers_too_little_to_accept() -> None:
    params = '();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
    signature = (
        "d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8U"
        "dx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJz"
        "sPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s"
        "++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q=="
    )
    base = rfc9421_signature_base("POST", RFC9421_URL, RFC9421_HEADERS, [], params)

    assert base == b'"@signature-params": ' + params.encode()
    raw_signature = base64.b64decode(signature)
    parsed = ParsedSignature("test-key-rsa-pss", "rsa-pss-sha512", base, raw_signature)
    verify_signature(parsed, RFC9421_RSA_PSS_KEY)
    headers = {
        **RFC9421_HEADERS,
        "Signature-Input": f"sig-b21={params}",
        "Signature": f"sig-b21=:{signature}:",
    }
    with pytest.raises(SignatureError, match="must cover @method"):
        parse_request_signature(
            "POST", "/foo?param=Value&Pet=dog", headers, RFC9421_BODY, RFC9421_CREATED
        )
