"""Live instances behind Caddy over verified HTTPS: a throwaway CA, its certificates, the proxies.

Each instance answers as https://<name>:<port>, where <name> resolves (in the test process and in
the instance, never in /etc/hosts) to its own loopback address; Caddy ends TLS there with the
shipped deploy/Caddyfile and forwards to the instance's uvicorn on another port.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.conftest import drop_database, make_database, unique_database_name
from tests.deploy.resolver import format_hosts
from tests.federation.instances import ROOT, LiveInstance, free_port, stop_process

SHIPPED_CADDYFILE = ROOT / "deploy" / "Caddyfile"
SITE_LINE = "{$ENTRAIDE_DOMAIN} {\n"
# No admin endpoint (several Caddy run side by side), no port 80 redirect server, no trust store.
CADDY_OPTIONS = "{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n}\n\n"
CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
    encipher_only=False, decipher_only=False,
)  # fmt: skip


@dataclass(frozen=True)
class Authority:
    """A certificate authority made for one test, and the PEM file that trusts it."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path


def _validity() -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    return now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)


def make_authority(directory: Path, common_name: str) -> Authority:
    """Create a self-signed CA and write its certificate to `directory`/ca.pem."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    not_before, not_after = _validity()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "ca.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return Authority(certificate, key, cert_path)


def issue_certificate(authority: Authority, hostname: str, directory: Path) -> tuple[Path, Path]:
    """Sign a server certificate for `hostname` (SubjectAltName); return (cert, key) paths."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    not_before, not_after = _validity()
    ca_key_id = authority.certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id),
            critical=False,
        )
        .sign(authority.key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{hostname}.pem", directory / f"{hostname}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def write_bundle(path: Path, authorities: Sequence[Authority]) -> Path:
    """Write one PEM file trusting every authority given (for SSL_CERT_FILE)."""
    path.write_bytes(b"".join(a.cert_path.read_bytes() for a in authorities))
    return path


def caddyfile(address: str, cert: Path, key: Path) -> str:
    """Return the shipped Caddyfile, bound to `address` and serving `cert` instead of ACME."""
    shipped = SHIPPED_CADDYFILE.read_text()
    assert SITE_LINE in shipped, "deploy/Caddyfile no longer opens its site with {$ENTRAIDE_DOMAIN}"
    site = f'{SITE_LINE}\tbind {address}\n\ttls "{cert}" "{key}"\n'
    return CADDY_OPTIONS + shipped.replace(SITE_LINE, site, 1)


@dataclass(frozen=True)
class Site:
    """A public name, the loopback address it resolves to, and the CA that signs its certificate."""

    name: str
    address: str
    authority: Authority


class HttpsInstance(LiveInstance):
    """An instance whose public URL is https://<name>:<port>, served by its own Caddy."""

    serve_module = "tests.deploy.resolver"  # `entraide serve` with the test's name resolution

    def __init__(
        self,
        site: Site,
        database_url: str,
        data_dir: Path,
        *,
        trust: Path,
        hosts: dict[str, str],
    ) -> None:
        super().__init__(site.address, free_port(site.address), database_url, data_dir)
        self.public_port = free_port(site.address)
        self.domain = f"{site.name}:{self.public_port}"
        self.base_url = f"https://{self.domain}"
        self.env["ENTRAIDE_URL"] = self.base_url
        # httpx (trust_env) builds its SSL context from SSL_CERT_FILE when it is set.
        self.env["SSL_CERT_FILE"] = str(trust)
        self.env.pop("SSL_CERT_DIR", None)
        self.env["ENTRAIDE_TEST_HOSTS"] = format_hosts(hosts)
        self.cert, self.key = issue_certificate(site.authority, site.name, data_dir / "tls")
        self.caddy: subprocess.Popen[bytes] | None = None
        self.caddy_log_path = data_dir / "caddy.log"

    def launch(self) -> None:
        """Start `entraide serve` through the resolving launcher, and Caddy in front of it."""
        super().launch()
        config = self.data_dir / "Caddyfile"
        config.write_text(caddyfile(self.host, self.cert, self.key))
        home = self.data_dir / "caddy-home"
        caddy_env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "ENTRAIDE_DOMAIN": self.domain,
            "ENTRAIDE_UPSTREAM": f"{self.host}:{self.port}",
        }
        with self.caddy_log_path.open("ab") as log:
            self.caddy = subprocess.Popen(
                ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
                env=caddy_env,
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def exited(self) -> bool:
        return super().exited() or self.caddy is None or self.caddy.poll() is not None

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            stop_process(self.caddy)
            self.caddy = None

    def log(self) -> str:
        path = self.caddy_log_path
        caddy = path.read_text(errors="replace") if path.exists() else ""
        return f"{super().log()}\n--- caddy\n{caddy[-3000:]}"


@contextmanager
def https_instances(
    tmp_path: Path, sites: Sequence[Site], *, trust: Path
) -> Iterator[list[HttpsInstance]]:
    """Start an instance and its Caddy per site, each trusting only `trust`; stop all after."""
    hosts = {site.name: site.address for site in sites}
    instances: list[HttpsInstance] = []
    names: list[str] = []
    try:
        for site in sites:
            name = unique_database_name("https")
            names.append(name)
            data_dir = tmp_path / site.name
            data_dir.mkdir()
            instance = HttpsInstance(site, make_database(name), data_dir, trust=trust, hosts=hosts)
            instances.append(instance)
            instance.launch()
        for instance in instances:
            instance.wait_ready()
        yield instances
    finally:
        for instance in instances:
            instance.stop()
        for name in names:
            drop_database(name)
