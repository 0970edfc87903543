#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""JWT keys and tokens for phenixd's integration tests (docs/security.md, "Authentication: JWT").

Uses only Debian 12's python3-cryptography (38) and the standard library. Import it from a test
in this folder (sys.path already holds it when the test runs as a script):

    import jwt_tokens
    keys = jwt_tokens.KeySet()                       # RSA-2048 "rsa-1", P-256 "ec-1", Ed25519
                                                     # "ed-1" and a random 48-byte HS256 secret
    keys.write_jwks(path)                            # {"keys": [...]}, every key (or kids=[...])
    keys.write_secret(path)                          # the HS256 secret file (--jwt-hs256-secret-file)
    keys.write_pem(path, "rsa-1")                    # a PEM public key
    keys.token(sub="alice", tenant="acme", roles=["writer"])
                                                     # a good RS256 token; kid="ec-1" / "ed-1" pick
                                                     # ES256 / EdDSA; kid=None with alg="HS256"
                                                     # signs with the secret
    keys.token(..., exp_in=-3600)                    # expired (seconds from now; None: no exp)
    keys.token(..., iss="https://issuer", aud="phenix", claims={"nbf": ...}, header={...})
    keys.bad_tokens(iss=..., aud=...)                # {name: token}: a dozen tokens every
                                                     # verifier must refuse (alg none, HS/RS
                                                     # confusion, bad signature, expired, ...)
    jwt_tokens.mint(header, payload, signer)         # any header/payload dicts (or raw JSON text)
                                                     # with a signer from keys.signer(kid)
    jwt_tokens.decode(token)                         # (header, payload) without verification

Defaults: roles ["reader"], exp in one hour, iat now, no iss/aud unless given. Tokens are str.

    python3 jwt_tokens.py --self-test                # mints every kind and verifies it (ctest)
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)

__all__ = ["KeySet", "mint", "decode", "b64url", "b64url_decode"]


def b64url(data):
    """Unpadded base64url of bytes (str is UTF-8 encoded first)."""
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value):
    if isinstance(value, (bytes, str)):
        return value  # raw JSON text, e.g. with duplicate keys
    return json.dumps(value, separators=(",", ":"))


def mint(header, payload, signer):
    """header.payload.signature; signer(bytes) -> signature bytes (b"" for an unsigned token)."""
    signing_input = b64url(_json(header)) + "." + b64url(_json(payload))
    return signing_input + "." + b64url(signer(signing_input.encode()))


def decode(token):
    """(header, payload) dicts of a token, unverified."""
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def _int_bytes(value):
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


class KeySet:
    """An RSA, an EC P-256 and an Ed25519 key (kids rsa-1, ec-1, ed-1) and an HS256 secret."""

    ALGORITHMS = {"rsa-1": "RS256", "ec-1": "ES256", "ed-1": "EdDSA"}

    def __init__(self, rsa_bits=2048):
        self.private = {
            "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits),
            "ec-1": ec.generate_private_key(ec.SECP256R1()),
            "ed-1": ed25519.Ed25519PrivateKey.generate(),
        }
        self.secret = secrets.token_urlsafe(48).encode()

    def add_key(self, kid, kind):
        """Another key ("rsa", "ec" or "ed") under a new kid, for rotation tests."""
        if kind == "rsa":
            self.private[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif kind == "ec":
            self.private[kid] = ec.generate_private_key(ec.SECP256R1())
        else:
            self.private[kid] = ed25519.Ed25519PrivateKey.generate()
        return kid

    def algorithm(self, kid):
        key = self.private[kid]
        if isinstance(key, rsa.RSAPrivateKey):
            return "RS256"
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return "ES256"
        return "EdDSA"

    def jwk(self, kid):
        public = self.private[kid].public_key()
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            body = {"kty": "RSA", "n": b64url(_int_bytes(numbers.n)),
                    "e": b64url(_int_bytes(numbers.e))}
        elif isinstance(public, ec.EllipticCurvePublicKey):
            numbers = public.public_numbers()
            body = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                    "y": b64url(numbers.y.to_bytes(32, "big"))}
        else:
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            body = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
        body.update({"kid": kid, "use": "sig", "alg": self.algorithm(kid)})
        return body

    def jwks(self, kids=None):
        return {"keys": [self.jwk(kid) for kid in (kids or list(self.private))]}

    def write_jwks(self, path, kids=None):
        """Writes the JWKS atomically (a temporary file renamed over path), so a running
        phenixd reloading it never reads half a file."""
        temp = path + ".tmp"
        with open(temp, "w") as out:
            json.dump(self.jwks(kids), out)
        os.replace(temp, path)
        return path

    def write_secret(self, path):
        with open(path, "wb") as out:
            out.write(self.secret)
        return path

    def public_pem(self, kid):
        return self.private[kid].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def write_pem(self, path, kid):
        with open(path, "wb") as out:
            out.write(self.public_pem(kid))
        return path

    def signer(self, kid=None, alg=None, der=False):
        """A function bytes -> signature: the key `kid`, or the HS256 secret for alg "HS256"
        (kid None). der=True gives ES256 in DER instead of JOSE's r||s (a bad token)."""
        if kid is None or alg == "HS256":
            secret = self.secret
            return lambda data: hmac.new(secret, data, hashlib.sha256).digest()
        key = self.private[kid]
        if isinstance(key, rsa.RSAPrivateKey):
            return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(key, ec.EllipticCurvePrivateKey):
            def sign_ec(data):
                signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
                if der:
                    return signature
                r, s = decode_dss_signature(signature)
                return r.to_bytes(32, "big") + s.to_bytes(32, "big")
            return sign_ec
        return key.sign

    def claims(self, sub="alice", tenant="acme", roles=("reader",), exp_in=3600, iss=None,
               aud=None, claims=None, now=None):
        now = int(time.time()) if now is None else now
        payload = {"sub": sub, "tenant": tenant, "roles": list(roles), "iat": now}
        if exp_in is not None:
            payload["exp"] = now + exp_in
        if iss is not None:
            payload["iss"] = iss
        if aud is not None:
            payload["aud"] = aud
        payload.update(claims or {})
        return payload

    def token(self, sub="alice", tenant="acme", roles=("reader",), kid="rsa-1", alg=None,
              exp_in=3600, iss=None, aud=None, claims=None, header=None, now=None):
        """A signed token. alg defaults to the key's algorithm (HS256 when kid is None)."""
        if alg is None:
            alg = "HS256" if kid is None else self.algorithm(kid)
        head = {"alg": alg, "typ": "JWT"}
        if kid is not None:
            head["kid"] = kid
        head.update(header or {})
        payload = self.claims(sub, tenant, roles, exp_in, iss, aud, claims, now)
        return mint(head, payload, self.signer(kid, alg))

    def bad_tokens(self, iss=None, aud=None, sub="alice", tenant="acme", roles=("admin",)):
        """Tokens a verifier configured with this key set (and iss/aud) must refuse."""
        good = dict(sub=sub, tenant=tenant, roles=roles, iss=iss, aud=aud)
        payload = self.claims(sub, tenant, roles, 3600, iss, aud)
        token = self.token(**good)
        head, body, signature = token.split(".")
        flipped = bytearray(b64url_decode(signature))
        flipped[len(flipped) // 2] ^= 1
        other = KeySet.__new__(KeySet)
        other.private = {"rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        return {
            "alg_none": mint({"alg": "none"}, payload, lambda data: b""),
            "alg_none_with_kid": mint({"alg": "none", "kid": "rsa-1"}, payload, lambda data: b""),
            "hs256_with_rsa_public_pem": mint({"alg": "HS256", "kid": "rsa-1"}, payload,
                                              lambda data: hmac.new(self.public_pem("rsa-1"),
                                                                    data, hashlib.sha256).digest()),
            "rs256_header_on_ec_key": mint({"alg": "RS256", "kid": "ec-1"}, payload,
                                           self.signer("ec-1")),
            "unknown_kid": mint({"alg": "RS256", "kid": "nope"}, payload, self.signer("rsa-1")),
            "bad_signature": head + "." + body + "." + b64url(bytes(flipped)),
            "other_key": other.token(**good),
            "es256_der_signature": mint({"alg": "ES256", "kid": "ec-1"}, payload,
                                        self.signer("ec-1", der=True)),
            "expired": self.token(exp_in=-3600, **good),
            "not_yet_valid": self.token(claims={"nbf": int(time.time()) + 3600}, **good),
            "no_exp": self.token(exp_in=None, **good),
            "duplicate_tenant": mint({"alg": "RS256", "kid": "rsa-1"},
                                     _json(payload)[:-1] + ',"tenant":"other"}',
                                     self.signer("rsa-1")),
            "two_segments": head + "." + body,
            "garbage": "not-a-token",
        }


def _verify(keys, token):
    """The self-test's reference verification (signature only) of a token minted here."""
    head, body, signature = token.split(".")
    header, _ = decode(token)
    data = (head + "." + body).encode()
    sig = b64url_decode(signature)
    if header["alg"] == "HS256":
        if not hmac.compare_digest(sig, hmac.new(keys.secret, data, hashlib.sha256).digest()):
            raise InvalidSignature()
        return
    public = keys.private[header["kid"]].public_key()
    if header["alg"] == "RS256":
        public.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    elif header["alg"] == "ES256":
        if len(sig) != 64:
            raise InvalidSignature()
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        public.verify(der, data, ec.ECDSA(hashes.SHA256()))
    else:
        public.verify(sig, data)


def _self_test():
    keys = KeySet()
    for kid in ("rsa-1", "ec-1", "ed-1", None):
        token = keys.token(kid=kid, roles=["writer"], iss="i", aud=["phenix", "x"])
        assert "=" not in token and token.count(".") == 2, token
        _verify(keys, token)
        header, payload = decode(token)
        assert header["alg"] == ("HS256" if kid is None else KeySet.ALGORITHMS[kid]), header
        assert payload["sub"] == "alice" and payload["tenant"] == "acme", payload
        assert payload["roles"] == ["writer"] and payload["exp"] > time.time(), payload
    with tempfile.TemporaryDirectory() as tmp:
        path = keys.write_jwks(os.path.join(tmp, "jwks.json"))
        with open(path) as f:
            jwks = json.load(f)
        assert [k["kid"] for k in jwks["keys"]] == ["rsa-1", "ec-1", "ed-1"], jwks
        assert all("d" not in k for k in jwks["keys"]), "private material in the JWKS"
        assert len(open(keys.write_secret(os.path.join(tmp, "s")), "rb").read()) >= 32
        assert b"BEGIN PUBLIC KEY" in open(keys.write_pem(os.path.join(tmp, "p"), "ec-1"),
                                           "rb").read()
    bad = keys.bad_tokens(iss="i", aud="phenix")
    assert len(bad) >= 12, bad
    for name in ("bad_signature", "other_key", "es256_der_signature", "rs256_header_on_ec_key"):
        try:
            if name == "rs256_header_on_ec_key":
                # Verified as the header claims (RS256 with ec-1's key) it cannot pass.
                raise InvalidSignature()
            _verify(keys, bad[name])
        except (InvalidSignature, ValueError, TypeError):
            continue
        raise AssertionError(name + " verified")
    keys.add_key("rsa-2", "rsa")
    _verify(keys, keys.token(kid="rsa-2"))
    print("jwt_tokens self-test: ok (RS256, ES256, EdDSA, HS256; %d bad tokens)" % len(bad))


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        _self_test()
    else:
        print(__doc__)
        sys.exit(2)
