"""Recognizers for credentials: cloud keys, service tokens, JWTs, private keys, passwords.

Each is a Presidio ``PatternRecognizer``, so scores, context words and the anonymizer work
on secrets exactly as on PII. A pattern is specific enough that a match is a secret
(fixed prefixes, exact lengths, checksummed shapes); look-alikes such as documentation
placeholders (``AKIAIOSFODNN7EXAMPLE``-style ``EXAMPLE`` keys stay detected on purpose:
tool output is no place to judge which keys are real).

Every recognizer carries ``prescreen``: literal text one of which must occur for the
recognizer to match at all. The redactor skips recognizers whose prescreen is absent.
"""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from firewall.redact.entities import SECRET_ENTITIES

__all__ = ["SECRET_ENTITIES", "SecretRecognizer", "secret_recognizers"]

# Names that make the value after `=` or `:` a credential, in any case. A long name may
# follow other letters (PGPASSWORD, csrftoken); a short one (pwd, api_key) only a separator
# or nothing (db_pwd). A name may end with a separated suffix (password_hash, token.value).
_LONG_PASSWORD = r"password|passwd|passphrase"
_SHORT_PASSWORD = r"pass|pwd|pw"
_LONG_SECRET = r"secret|token|apikey|credentials?|accountkey|bearer"
_SHORT_SECRET = (
    r"api[_.\-]key|access[_.\-]key|private[_.\-]key|auth[_.\-]key|account[_.\-]key|"
    r"signing[_.\-]key|encryption[_.\-]key|session[_.\-]key|shared[_.\-]?access[_.\-]?key"
)
# key, optional quote, `=` or `:` (or `=>`), then the value (kept by \K): a quoted value
# runs to its closing quote, a bare one to the next space or separator.
_ASSIGN = r"""["']?\s*(?:=>|:=|[:=])\s*"""
_EMPTY = r"""(?:null|none|true|false|undefined|\*+|x+)"""
_VALUE = (
    rf"""(?:["']\K(?!{_EMPTY}["'])[^"'\r\n<>]{{4,256}}(?=["'])"""
    rf"""|\K(?!{_EMPTY}(?![^\s"',;<>&]))[^\s"',;<>&]{{4,256}})"""
)


def _kv_pattern(long_keys: str, short_keys: str) -> str:
    return (
        r"(?<![A-Za-z0-9_.\-])(?:[A-Za-z0-9_.\-]{0,40}[_.\-])?"
        rf"(?:[A-Za-z0-9]{{0,12}}(?:{long_keys})|(?:{short_keys}))"
        rf"(?:[_.\-][A-Za-z0-9_.\-]{{0,20}})?{_ASSIGN}{_VALUE}"
    )


# A value on a command line: quoted (the quotes are left), or up to the next space.
_ARG = r"""(?:'\K[^'\n]{1,128}(?=')|"\K[^"\n]{1,128}(?=")|\K[^\s'"|;&<>]{1,128})"""
# The rest of one command, bounded: options before the one that carries the secret.
_SAME_COMMAND = r"[^\n|;&]{0,200}?"

#: Passwords given to programs on their command line.
CLI_PASSWORDS = (
    # mysql -u root -p'secret' / -psecret (the value is glued to -p)
    rf"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlsh|mysqlpump|mariadb|mariadb-dump)"
    rf"\b{_SAME_COMMAND}(?<=\s)-p(?=[^\s-]){_ARG}",
    # docker/podman/helm ... login -p secret / --password secret
    rf"\blogin\b{_SAME_COMMAND}(?<=\s)(?:-p|--password)(?:=|[ \t]+){_ARG}",
    rf"\bsshpass\s+-p[ \t]*{_ARG}",
    rf"\bredis-cli\b{_SAME_COMMAND}(?<=\s)-a[ \t]+{_ARG}",
    # any program: --password secret, --passwd=secret
    rf"(?<=\s)--(?:password|passwd|pass|db-password|admin-password)(?:=|[ \t]+)(?!-){_ARG}",
    # curl -u user:secret, wget --password
    rf"(?<=\s)(?:-u|--user)[ \t]+['\"]?[^\s:'\"]{{1,64}}:{_ARG}",
    # "the password is hunter2!" (a value with a digit or a symbol, not a word of prose)
    r"(?i)\b(?:password|passcode|passphrase)[ \t]+(?:is|was|:)[ \t]+"
    r"\K(?=[^\s'\"]{0,127}[\d!@#$%^&*])[^\s'\"]{4,128}",
)

#: Secrets set through a command (``aws configure set aws_secret_access_key ...``).
CLI_SECRETS = (
    rf"\b(?:configure|config)[ \t]+set[ \t]+[\w.:/\-]{{0,60}}(?i:secret|token|password|key)"
    rf"[\w.\-]{{0,20}}[ \t]+{_ARG}",
)

#: One-time codes in messages and key/value text.
ONE_TIME_CODE = (
    r"(?i)\b(?:one[- ]time (?:pass(?:word|code)|code|pin)|otp|passcode|verification code"
    r"|security code|auth(?:entication)? code|login code|sign-in code|2fa code|mfa code"
    r"|confirmation code)\b[^0-9\n]{0,24}?\K\d{4,8}\b"
)

#: Tokens of services with a recognisable prefix (beyond the ones with their own entity).
SERVICE_TOKENS = (
    r"SG\.[\w\-]{22}\.[\w\-]{43}",  # SendGrid
    r"npm_[A-Za-z0-9]{36}",  # npm
    r"pypi-AgEIcHlwaS5vcmc[\w\-]{50,200}",  # PyPI
    r"hf_[A-Za-z]{34}",  # Hugging Face
    r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",  # Shopify
    r"dop_v1_[a-f0-9]{64}",  # DigitalOcean
    r"dapi[a-f0-9]{32}(?:-\d)?",  # Databricks
    r"AGE-SECRET-KEY-1[0-9A-Z]{58}",  # age
    r"key-[0-9a-f]{32}",  # Mailgun
    r"sq0(?:atp|csp)-[\w\-]{22,43}",  # Square
)
SERVICE_PREFIXES = (
    "sg.",
    "npm_",
    "pypi-",
    "hf_",
    "shpat_",
    "shpca_",
    "shppa_",
    "shpss_",
    "dop_v1_",
    "dapi",
    "age-secret-key-",
    "key-",
    "sq0",
)

#: ``-----BEGIN`` in base64: a PEM block stored encoded (a Kubernetes Secret's ``tls.key``).
_BASE64_PEM = r"(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,32768}={0,2}"


class SecretRecognizer(PatternRecognizer):
    """A pattern recognizer for one kind of secret, with the literals its matches contain."""

    def __init__(
        self,
        entity: str,
        patterns: list[Pattern],
        prescreen: tuple[str, ...],
        context: list[str] | None = None,
        ignore_case: bool = False,
    ) -> None:
        super().__init__(
            supported_entity=entity,
            name=f"Secret{entity.title().replace('_', '')}Recognizer",
            patterns=patterns,
            context=context,
            supported_language="en",
            global_regex_flags=re.MULTILINE | (re.IGNORECASE if ignore_case else 0),
        )
        self.prescreen = prescreen
        self.prescreen_ignore_case = ignore_case

    def may_match(self, text: str, lowered: str) -> bool:
        """False when no match is possible: none of the required literals occurs."""
        haystack = lowered if self.prescreen_ignore_case else text
        return any(literal in haystack for literal in self.prescreen)


class Base64KeyRecognizer(SecretRecognizer):
    """A base64-encoded PEM block that decodes to a private key (not a certificate)."""

    def __init__(self) -> None:
        super().__init__(
            "PRIVATE_KEY",
            [Pattern("base64 pem private key", _BASE64_PEM, 1.0)],
            ("LS0tLS1CRUdJTi",),
        )
        self.name = "SecretBase64PrivateKeyRecognizer"

    def validate_result(self, pattern_text: str) -> bool:
        import base64
        import binascii

        head = pattern_text[:96]
        try:
            decoded = base64.b64decode(head[: len(head) // 4 * 4], validate=True)
        except (binascii.Error, ValueError):
            return False
        return b"PRIVATE KEY" in decoded


def _b(regex: str) -> str:
    """Bound a token on both sides so it is not part of a longer identifier."""
    return rf"(?<![A-Za-z0-9_\-/+]){regex}(?![A-Za-z0-9_\-])"


def secret_recognizers() -> list[SecretRecognizer]:
    """One recognizer per kind of secret, ready to add to a Presidio registry."""
    return [
        SecretRecognizer(
            "AWS_ACCESS_KEY",
            [
                Pattern(
                    "aws access key id", _b(r"(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[A-Z2-7]{16}"), 0.9
                )
            ],
            ("AKIA", "ASIA", "ABIA", "ACCA", "AROA", "AIDA"),
            context=["aws", "access", "key"],
        ),
        SecretRecognizer(
            "GCP_API_KEY",
            [Pattern("google api key", _b(r"AIza[0-9A-Za-z_\-]{35}"), 0.9)],
            ("AIza",),
        ),
        SecretRecognizer(
            "AZURE_KEY",
            [
                Pattern(
                    "azure storage / service bus key",
                    r"(?:AccountKey|SharedAccessKey)=\K[A-Za-z0-9+/]{40,100}={0,2}",
                    0.95,
                ),
                Pattern(
                    "azure sas signature", r"[?&]sig=\K[A-Za-z0-9%+/]{40,120}(?:%3D|=){0,2}", 0.8
                ),
            ],
            ("AccountKey=", "SharedAccessKey=", "sig="),
        ),
        SecretRecognizer(
            "GITHUB_TOKEN",
            [
                Pattern("github token", _b(r"gh[pousr]_[A-Za-z0-9]{36,255}"), 0.95),
                Pattern("github fine-grained token", _b(r"github_pat_[A-Za-z0-9_]{60,255}"), 0.95),
            ],
            ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        ),
        SecretRecognizer(
            "GITLAB_TOKEN",
            [
                Pattern(
                    "gitlab token", _b(r"gl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_\-]{20,64}"), 0.95
                )
            ],
            ("glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "gloas-"),
        ),
        SecretRecognizer(
            "SLACK_TOKEN",
            [
                Pattern("slack token", _b(r"xox[abposer]-(?:[0-9]+-)+[A-Za-z0-9\-]{8,}"), 0.95),
                Pattern(
                    "slack webhook",
                    r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
                    0.95,
                ),
            ],
            ("xox", "hooks.slack.com"),
        ),
        SecretRecognizer(
            "STRIPE_KEY",
            [
                Pattern(
                    "stripe secret key", _b(r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,247}"), 0.95
                )
            ],
            ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
        ),
        SecretRecognizer(
            "OPENAI_API_KEY",
            [
                Pattern(
                    "openai-style api key",
                    _b(r"sk-(?:(?:proj|svcacct|admin|ant-api\d\d)-)?[A-Za-z0-9_\-]{32,200}"),
                    0.9,
                ),
            ],
            ("sk-",),
        ),
        SecretRecognizer(
            "JWT",
            [
                Pattern(
                    "json web token",
                    _b(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
                    0.95,
                )
            ],
            ("eyJ",),
        ),
        SecretRecognizer(
            "PRIVATE_KEY",
            [
                Pattern(
                    "pem private key block",
                    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
                    r"[\s\S]{0,16384}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
                    1.0,
                ),
                # A truncated block (tool output cut short) is still a key.
                Pattern(
                    "pem private key head",
                    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\\n|[\s])*"
                    r"[A-Za-z0-9+/=\\\s:,\-]{16,16384}",
                    0.9,
                ),
            ],
            ("PRIVATE KEY",),
        ),
        Base64KeyRecognizer(),
        SecretRecognizer(
            "CONNECTION_STRING",
            [
                Pattern(
                    "url with credentials",
                    r"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@\"'<>]{1,128}:"
                    r"[^\s/@\"'<>]{1,256}@[^\s/\"'<>:;,]{1,253}",
                    0.9,
                )
            ],
            ("://",),
            ignore_case=True,
        ),
        SecretRecognizer(
            "PASSWORD",
            [
                Pattern("password assignment", _kv_pattern(_LONG_PASSWORD, _SHORT_PASSWORD), 0.8),
                *(Pattern("password on a command line", p, 0.8) for p in CLI_PASSWORDS),
            ],
            ("pass", "pwd", "pw", "-p", "-a", "-u", "--user"),
            ignore_case=True,
        ),
        SecretRecognizer(
            "SECRET",
            [
                Pattern("secret assignment", _kv_pattern(_LONG_SECRET, _SHORT_SECRET), 0.8),
                # HTTP credentials: "Authorization: Bearer <token>" / "Basic <base64>".
                Pattern("bearer token", r"\bbearer\s+\K[A-Za-z0-9\-._~+/]{16,}=*", 0.8),
                Pattern("basic credentials", r"\bbasic\s+\K[A-Za-z0-9+/]{12,}={0,2}", 0.6),
                *(Pattern("secret set by a command", p, 0.8) for p in CLI_SECRETS),
                Pattern("one-time code", ONE_TIME_CODE, 0.8),
                *(Pattern("service token", _b(p), 0.9) for p in SERVICE_TOKENS),
            ],
            (
                "secret",
                "token",
                "key",
                "credential",
                "bearer",
                "basic",
                "otp",
                "code",
                "password",
                *SERVICE_PREFIXES,
            ),
            ignore_case=True,
        ),
    ]
