"""The academy's digital signature on its certificates (PAdES, with pyHanko).

Every certificate PDF is signed at issue with the academy's key, so any PDF reader shows who
issued it and whether it was changed since. The key is configured as
``CERTIFICATE_KEY`` (a PEM or DER private key, or a PKCS#12 file ending in .p12 or .pfx) and
``CERTIFICATE_CERT`` (its certificate in PEM or DER, followed by any intermediate certificates
of the authority that issued it; not needed with PKCS#12), with ``CERTIFICATE_KEY_PASSPHRASE``
if the key is encrypted. ``academy certificates keygen`` makes a self-signed pair for a new
academy; a key from a certification authority (Chile's firma electrónica avanzada) is
configured the same way.

Without configuration, development and test instances generate a self-signed pair once into
``instance/certificados/`` (like the secret key); production refuses to start without one
(academy/config.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import functools
import io
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app

# pyHanko, asn1crypto and cryptography are imported inside the functions that use them: they
# are slow to load, and only signing, checking a signature or making a key needs them.

DEVELOPMENT_DIR = "certificados"
KEY_FILE = "academia.key"
CERT_FILE = "academia.crt"
PKCS12_SUFFIXES = (".p12", ".pfx")
SIGNATURE_FIELD = "FirmaAcademia"
SELF_SIGNED_YEARS = 10
RSA_BITS = 3072


class SigningKeyError(RuntimeError):
    """The configured key or certificate cannot be used; the message says which and why."""


# Making a key --------------------------------------------------------------------------------


def generate_pair(common_name: str, organisation: str) -> tuple[bytes, bytes]:
    """A new RSA key (PKCS#8 PEM, unencrypted) and a self-signed certificate for signing
    documents (PEM), valid for :data:`SELF_SIGNED_YEARS` years."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * SELF_SIGNED_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def write_pair(
    folder: Path, common_name: str, organisation: str, *, force: bool
) -> tuple[Path, Path]:
    """Write a new pair into ``folder`` (key readable by its owner only); refuse to replace an
    existing key unless ``force``. Returns the key's and the certificate's paths."""
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if not force and (key_path.exists() or cert_path.exists()):
        raise FileExistsError(key_path if key_path.exists() else cert_path)
    folder.mkdir(parents=True, exist_ok=True)
    key_pem, cert_pem = generate_pair(common_name, organisation)
    _write_private(key_path, key_pem)
    cert_path.write_bytes(cert_pem)
    return key_path, cert_path


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner can read, replacing any file there atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def development_pair(instance: Path, common_name: str) -> tuple[Path, Path]:
    """The instance's own self-signed pair, generated the first time it is needed. A lock
    keeps two processes starting together (the web server and the worker) from each making
    one."""
    folder = instance / DEVELOPMENT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (key_path.exists() and cert_path.exists()):
            write_pair(folder, common_name, common_name, force=True)
    return key_path, cert_path


# Loading the configured key ------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    signer: Any  # pyhanko.sign.signers.SimpleSigner
    certificates: tuple[Any, ...]  # asn1crypto certificates: the signer's, then its chain

    @property
    def subject(self) -> str:
        return str(self.certificates[0].subject.human_friendly)


def configured_paths(app: Flask) -> tuple[Path, Path | None]:
    """The key file and certificate file this app signs with, generating the development
    pair when none is configured outside production."""
    config = app.config
    key = config.get("CERTIFICATE_KEY")
    if key:
        cert = config.get("CERTIFICATE_CERT")
        return Path(key), Path(cert) if cert else None
    if config["ENV"] == "production":
        raise SigningKeyError("ACADEMY_CERTIFICATE_KEY is not set.")
    return development_pair(Path(app.instance_path), str(config["CERTIFICATE_ISSUER"]))


def load_key(key_path: Path, cert_path: Path | None, passphrase: str | None) -> Key:
    """The signer for a key file (PEM/DER, or PKCS#12) and its certificate file."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    secret = passphrase.encode() if passphrase else None
    try:
        if key_path.suffix.lower() in PKCS12_SUFFIXES:
            loaded = signers.SimpleSigner.load_pkcs12(str(key_path), passphrase=secret)
            if loaded is None:
                raise SigningKeyError(
                    f"{key_path}: cannot read the PKCS#12 file (wrong passphrase?)."
                )
            private = loaded.signing_key
            chain = [
                loaded.signing_cert,
                *(c for c in loaded.cert_registry if c != loaded.signing_cert),
            ]
        else:
            if cert_path is None:
                raise SigningKeyError(
                    "ACADEMY_CERTIFICATE_CERT is not set: the key's certificate is needed "
                    "(or give a PKCS#12 file, .p12 or .pfx, as ACADEMY_CERTIFICATE_KEY)."
                )
            from pyhanko.keys import load_private_key_from_pemder

            private = load_private_key_from_pemder(str(key_path), passphrase=secret)
            data = cert_path.read_bytes()
            blocks = (
                [der for _kind, _headers, der in pem.unarmor(data, multiple=True)]
                if pem.detect(data)
                else [data]
            )
            chain = [asn1_x509.Certificate.load(der) for der in blocks]
            if not chain:
                raise SigningKeyError(f"{cert_path}: holds no certificate.")
        signer = _signer_class()(
            signing_cert=chain[0],
            signing_key=private,
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )
    except SigningKeyError:
        raise
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(
            f"cannot load the certificate signing key ({key_path}): {error}"
        ) from error
    if not _matches(signer):
        raise SigningKeyError(
            f"{cert_path or key_path}: the certificate is not the key's (they do not match)."
        )
    return Key(signer=signer, certificates=tuple(chain))


def _matches(signer: Any) -> bool:
    """Whether the signer's certificate carries the public key of its private key."""
    from cryptography.hazmat.primitives import serialization

    try:
        private = signer.private_key
    except (ValueError, TypeError):
        return True  # a key type cryptography cannot read back: let signing tell
    ours = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return bool(ours == signer.signing_cert.public_key.dump())


@functools.cache
def _signer_class() -> type:
    """pyHanko's SimpleSigner, keeping its private key parsed.

    SimpleSigner parses (and checks) the key again for every signature, twice per PDF (once to
    size the signature): about 100 ms each for an RSA key, most of what signing costs. This one
    parses it once; other mechanisms than RSA PKCS#1 v1.5 go the usual way."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign import signers
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class KeptKeySigner(signers.SimpleSigner):  # type: ignore[misc]
        @functools.cached_property
        def private_key(self) -> Any:
            return serialization.load_der_private_key(self.signing_key.dump(), password=None)

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            key = self.private_key
            if mechanism.signature_algo == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
                return bytes(
                    key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
                )
            return bytes(super().sign_raw(data, digest_algorithm))

    return KeptKeySigner


def current_key() -> Key:
    """The key this app signs with, loaded once per process."""
    app = current_app._get_current_object()
    cached = app.extensions.get("academy_signing_key")
    if cached is None:
        key_path, cert_path = configured_paths(app)
        cached = load_key(key_path, cert_path, app.config.get("CERTIFICATE_KEY_PASSPHRASE"))
        app.extensions["academy_signing_key"] = cached
    return cached  # type: ignore[no-any-return]


# Signing and checking ------------------------------------------------------------------------


def sign(pdf: bytes, *, reason: str, location: str, contact: str | None = None) -> bytes:
    """``pdf`` with the academy's PAdES signature over the whole file, as a new revision."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    key = current_key()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        contact_info=contact,
        name=str(current_app.config["CERTIFICATE_ISSUER"]),
    )
    signed = blocking(signers.async_sign_pdf(writer, metadata, signer=key.signer))
    return bytes(signed.getvalue())


T = TypeVar("T")


def blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one of pyHanko's coroutines to its end from synchronous code.

    pyHanko's synchronous wrappers call ``asyncio.run()``, which refuses to start where an event
    loop already runs in the thread (an async server; Playwright's sync API in the test suite).
    There the coroutine runs on a loop of its own in a helper thread that this one waits for:
    the work stays in the request, nothing is left running after it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF's signature says: none, or intact or not, whole file or not, and by whom."""

    present: bool
    intact: bool = False
    whole_file: bool = False
    trusted: bool = False
    signer: str | None = None

    @property
    def holds(self) -> bool:
        return self.present and self.intact and self.whole_file


def check(pdf: bytes, trust: tuple[Any, ...] = ()) -> SignatureCheck:
    """Validate the last signature of ``pdf`` (bytes the academy stored: not hostile input).

    ``trust``: certificates taken as trust anchors (the academy's own, by default)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            return SignatureCheck(present=False)
        anchors = list(trust) or list(current_key().certificates)
        context = ValidationContext(trust_roots=anchors, allow_fetching=False)
        status = blocking(async_validate_pdf_signature(signatures[-1], context))
    except (PdfError, SignatureValidationError, ValueError, KeyError):
        # A signature so broken it cannot even be read does not hold.
        return SignatureCheck(present=True)
    return SignatureCheck(
        present=True,
        intact=bool(status.intact and status.valid),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        trusted=bool(status.trusted),
        signer=str(status.signing_cert.subject.human_friendly),
    )
