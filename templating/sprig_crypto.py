"""Sprig's cryptographic functions: bcrypt, htpasswd, derivePassword (Master Password), private keys and
certificates (as PEM text), AES-CBC encryption and random bytes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
import struct
from collections.abc import Callable
from typing import Any

import bcrypt as bcrypt_lib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .budget import check_size
from .sprig_lists import strval
from .values import Uint32

SEED = b"com.lyndir.masterpassword"
PASSWORD_TEMPLATES = {
    "maximum": ["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
    "long": [
        "CvcvnoCvcvCvcv",
        "CvcvCvcvnoCvcv",
        "CvcvCvcvCvcvno",
        "CvccnoCvcvCvcv",
        "CvccCvcvnoCvcv",
        "CvccCvcvCvcvno",
        "CvcvnoCvccCvcv",
        "CvcvCvccnoCvcv",
        "CvcvCvccCvcvno",
        "CvcvnoCvcvCvcc",
        "CvcvCvcvnoCvcc",
        "CvcvCvcvCvccno",
        "CvccnoCvccCvcv",
        "CvccCvccnoCvcv",
        "CvccCvccCvcvno",
        "CvcvnoCvccCvcc",
        "CvcvCvccnoCvcc",
        "CvcvCvccCvccno",
        "CvccnoCvcvCvcc",
        "CvccCvcvnoCvcc",
        "CvccCvcvCvccno",
    ],
    "medium": ["CvcnoCvc", "CvcCvcno"],
    "short": ["Cvcn"],
    "basic": ["aaanaaan", "aannaaan", "aaannaaa"],
    "pin": ["nnnn"],
}
TEMPLATE_CHARACTERS = {
    "V": "AEIOU",
    "C": "BCDFGHJKLMNPQRSTVWXYZ",
    "v": "aeiou",
    "c": "bcdfghjklmnpqrstvwxyz",
    "A": "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
    "a": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
    "n": "0123456789",
    "o": "@&%?,=[]_:-+*$#!'^~;()/.",
    "x": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
}


class Certificate:
    """Sprig's certificate struct: fields Cert and Key (PEM text)."""

    __slots__ = ("Cert", "Key")
    go_name = "sprig.certificate"
    go_kind = "struct"
    go_fields = ("Cert", "Key")

    def __init__(self, cert: str, key: str) -> None:
        self.Cert = cert
        self.Key = key

    def go_string(self) -> str:
        return "{" + self.Cert + " " + self.Key + "}"

    def go_json(self) -> str:
        from .sprig_encoding import go_json

        return "{" + f'"Cert":{go_json(self.Cert)},"Key":{go_json(self.Key)}' + "}"


def bcrypt(text: str) -> str:
    return bcrypt_lib.hashpw(text.encode(), bcrypt_lib.gensalt(10, prefix=b"2a")).decode()


def htpasswd(user: str, password: str) -> str:
    return f"invalid username: {user}" if ":" in user else f"{user}:{bcrypt(password)}"


def derive_password(counter: Uint32, kind: str, password: str, user: str, site: str) -> str:
    """Master Password's algorithm, as Sprig's derivePassword."""
    templates = PASSWORD_TEMPLATES.get(kind)
    if templates is None:
        return f"cannot find password template {kind}"
    user_bytes, site_bytes = user.encode(), site.encode()
    salt = SEED + struct.pack(">I", len(user_bytes)) + user_bytes
    key = hashlib.scrypt(password.encode(), salt=salt, n=32768, r=8, p=2, dklen=64, maxmem=64 * 1024 * 1024)
    message = SEED + struct.pack(">I", len(site_bytes)) + site_bytes + struct.pack(">I", counter)
    seed = hmac.new(key, message, hashlib.sha256).digest()
    template = templates[seed[0] % len(templates)]
    return "".join(
        TEMPLATE_CHARACTERS[char][seed[index + 1] % len(TEMPLATE_CHARACTERS[char])]
        for index, char in enumerate(template)
    )


def pem_of_key(key: Any) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, dsa.DSAPrivateKey)):
        form = serialization.PrivateFormat.TraditionalOpenSSL
    else:
        form = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption()).decode()


def new_key(kind: str) -> Any:
    if kind in ("", "rsa"):
        return rsa.generate_private_key(65537, 4096)
    if kind == "dsa":
        return dsa.generate_private_key(2048)
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return None


def gen_private_key(kind: str) -> str:
    key = new_key(kind)
    return f"Unknown type {kind}" if key is None else pem_of_key(key)


def parse_key(text: str) -> Any:
    try:
        return serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("error parsing private key: no PEM data found") from None


def certificate(
    cn: str,
    ips: list,
    names: list,
    days: int,
    key: Any,
    signer: tuple[x509.Certificate, Any] | None,
    ca: bool,
) -> Certificate:
    """An X.509 certificate like Sprig's getBaseCertTemplate + getCertAndKey."""
    now = dt.datetime.now(dt.UTC)
    issuer_cert, issuer_key = signer if signer else (None, key)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else x509.Name([])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(128) or 1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, True, False, False, ca, False, False, False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    )
    alternatives: list[x509.GeneralName] = [x509.DNSName(strval(name)) for name in names or ()]
    alternatives += [x509.IPAddress(ipaddress.ip_address(strval(ip))) for ip in ips or ()]
    if alternatives:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    cert = builder.sign(issuer_key, algorithm)
    return Certificate(cert.public_bytes(serialization.Encoding.PEM).decode(), pem_of_key(key))


def signer_of(ca: Any) -> tuple[x509.Certificate, Any]:
    if not isinstance(ca, Certificate):
        raise TypeError("wrong type for value; expected sprig.certificate")
    try:
        cert = x509.load_pem_x509_certificate(ca.Cert.encode())
    except ValueError:
        raise ValueError("unable to decode certificate") from None
    return cert, parse_key(ca.Key)


def gen_ca(cn: str, days: int) -> Certificate:
    return certificate(cn, [], [], days, rsa.generate_private_key(65537, 2048), None, True)


def gen_ca_with_key(cn: str, days: int, key: str) -> Certificate:
    return certificate(cn, [], [], days, parse_key(key), None, True)


def gen_self_signed_cert(cn: str, ips: list, names: list, days: int) -> Certificate:
    return certificate(cn, ips, names, days, rsa.generate_private_key(65537, 2048), None, False)


def gen_self_signed_cert_with_key(cn: str, ips: list, names: list, days: int, key: str) -> Certificate:
    return certificate(cn, ips, names, days, parse_key(key), None, False)


def gen_signed_cert(cn: str, ips: list, names: list, days: int, ca: Any) -> Certificate:
    return certificate(cn, ips, names, days, rsa.generate_private_key(65537, 2048), signer_of(ca), False)


def gen_signed_cert_with_key(cn: str, ips: list, names: list, days: int, ca: Any, key: str) -> Certificate:
    return certificate(cn, ips, names, days, parse_key(key), signer_of(ca), False)


def build_custom_cert(b64cert: str, b64key: str) -> Certificate:
    try:
        cert = base64.b64decode(b64cert, validate=True).decode()
    except ValueError:
        raise ValueError("unable to decode base64 certificate") from None
    try:
        key = base64.b64decode(b64key, validate=True).decode()
    except ValueError:
        raise ValueError("unable to decode base64 private key") from None
    try:
        x509.load_pem_x509_certificate(cert.encode())
    except ValueError:
        raise ValueError("unable to decode certificate") from None
    parse_key(key)
    return Certificate(cert, key)


def aes_key(password: str) -> bytes:
    return password.encode()[:32].ljust(32, b"\0")


def encrypt_aes(password: str, plaintext: str) -> str:
    if not plaintext:
        return ""
    data = plaintext.encode()
    padding = 16 - len(data) % 16
    data += bytes([padding]) * padding
    iv = secrets.token_bytes(16)
    encryptor = Cipher(algorithms.AES(aes_key(password)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode()


def decrypt_aes(password: str, encrypted: str) -> str:
    if not encrypted:
        return ""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except ValueError:
        from .sprig_encoding import bad_base64_byte

        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        raise ValueError(
            f"illegal base64 data at input byte {bad_base64_byte(encrypted, 4, alphabet)}"
        ) from None
    if len(data) < 16:
        raise ValueError("runtime error: slice bounds out of range")
    iv, body = data[:16], data[16:]
    if len(body) % 16:
        raise ValueError("crypto/cipher: input not full blocks")
    decryptor = Cipher(algorithms.AES(aes_key(password)), modes.CBC(iv)).decryptor()
    plain = decryptor.update(body) + decryptor.finalize()
    if not plain:
        raise ValueError("runtime error: index out of range [-1]")
    cut = len(plain) - plain[-1]
    if cut < 0:
        raise ValueError(f"runtime error: slice bounds out of range [:{cut}]")
    return plain[:cut].decode(errors="replace")


def rand_bytes(count: int) -> str:
    check_size(count * 4 // 3)
    return base64.b64encode(secrets.token_bytes(count)).decode()


CRYPTO: dict[str, Callable] = {
    "bcrypt": bcrypt,
    "htpasswd": htpasswd,
    "derivePassword": derive_password,
    "genPrivateKey": gen_private_key,
    "genCA": gen_ca,
    "genCAWithKey": gen_ca_with_key,
    "genSelfSignedCert": gen_self_signed_cert,
    "genSelfSignedCertWithKey": gen_self_signed_cert_with_key,
    "genSignedCert": gen_signed_cert,
    "genSignedCertWithKey": gen_signed_cert_with_key,
    "buildCustomCert": build_custom_cert,
    "encryptAES": encrypt_aes,
    "decryptAES": decrypt_aes,
    "randBytes": rand_bytes,
}
