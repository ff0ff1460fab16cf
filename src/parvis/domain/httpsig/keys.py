"""Keys and the signature algorithms over them: PEM loading (cached: an inbox checks the same
few actors' keys over and over), key generation, and sign/verify for RSASSA-PKCS1-v1_5 SHA-256,
RSASSA-PSS SHA-512 and Ed25519."""

from __future__ import annotations

import functools

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from parvis.domain.httpsig.errors import SignatureError, SignatureMismatch

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

# RSA keys shorter than this are refused (every fediverse server uses 2048 bits or more).
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16_384

RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
ED25519 = "ed25519"
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def generate_key_pair() -> tuple[str, str]:
    """A new RSA-2048 key pair: (private key PEM, PKCS#8; public key PEM, SubjectPublicKeyInfo)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem


@functools.lru_cache(maxsize=4096)
def load_public_key(pem: str) -> PublicKey:
    """An RSA or Ed25519 public key from PEM (SPKI, or PKCS#1 `RSA PUBLIC KEY`)."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise SignatureError("the actor's public key is not a PEM public key") from None
    if isinstance(key, rsa.RSAPublicKey):
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise SignatureError(f"the actor's RSA key has {key.key_size} bits")
        return key
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    raise SignatureError(f"unsupported public key type {type(key).__name__}")


@functools.lru_cache(maxsize=256)
def load_private_key(pem: str) -> PrivateKey:
    """An RSA or Ed25519 private key from PEM (PKCS#8 or PKCS#1); ValueError otherwise."""
    key = serialization.load_pem_private_key(pem.strip().encode("ascii"), password=None)
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise ValueError(f"unsupported private key type {type(key).__name__}")


def is_rsa(key: PrivateKey | PublicKey) -> bool:
    return isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)


def algorithm_for(key: PrivateKey | PublicKey) -> str:
    """The RFC 9421 algorithm a key signs with by default."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return ED25519
    return RSA_V1_5_SHA256


def sign(key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    if algorithm == ED25519 and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm == RSA_V1_5_SHA256:
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if algorithm == RSA_PSS_SHA512:
            return key.sign(data, _PSS_SHA512, hashes.SHA512())
    raise ValueError(f"cannot sign with {algorithm} using this key")


def verifies(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    """Whether `signature` is `data` signed with `key` under `algorithm`. A key of the wrong
    type for the algorithm raises SignatureError (the signer lied about its algorithm)."""
    try:
        if algorithm == ED25519:
            if not isinstance(key, ed25519.Ed25519PublicKey):
                raise SignatureMismatch("an ed25519 signature, but the actor's key is not Ed25519")
            key.verify(signature, data)
            return True
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureMismatch(f"an {algorithm} signature, but the actor's key is not RSA")
        if algorithm == RSA_V1_5_SHA256:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        if algorithm == RSA_PSS_SHA512:
            key.verify(signature, data, _PSS_SHA512, hashes.SHA512())
            return True
    except InvalidSignature:
        return False
    raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
