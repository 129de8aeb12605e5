# ruff: noqa: E501  (generated lines read best whole)
"""Labelled tool output, generated with Faker from a seed: what agents' tools really return.

Each document is one tool output as text (JSON rows with varied column names, psql and CSV
tables, application and access logs, mail with headers, config files, shell history) with
the values in it that must not reach the model, as ``(entity, value, kind)``. Values that
must stay (amounts, timestamps, ids, versions, ports, byte counts) are mixed in unlabelled,
so precision means something.

Secrets are labelled ``SECRET`` with a ``kind`` (over 20 kinds); any secret-type finding
counts for them. Used by ``bench_redact.py`` and, with a small seed, by the tests.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from faker import Faker

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL")


@dataclass
class Doc:
    kind: str
    text: str
    labels: list[tuple[str, str, str]] = field(default_factory=list)  # entity, value, kind


class _Writer:
    """Builds one document; ``pii`` records a value as it is written."""

    def __init__(self, kind: str) -> None:
        self.doc = Doc(kind, "")

    def pii(self, entity: str, value: str, kind: str = "") -> str:
        self.doc.labels.append((entity, value, kind or entity))
        return value


class ToolOutputFaker:
    """Reproducible generator of labelled tool outputs."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fakers = {}
        for index, locale in enumerate(LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed * 31 + index)
            self.fakers[locale] = fake
        self.kinds: list[Callable[[], Doc]] = [
            self.json_rows,
            self.json_rows,
            self.psql_table,
            self.csv_export,
            self.app_log,
            self.access_log,
            self.mail,
            self.env_file,
            self.k8s_secret,
            self.ini_config,
            self.shell_history,
            self.ci_log,
        ]

    def generate(self, count: int) -> list[Doc]:
        return [self.rng.choice(self.kinds)() for _ in range(count)]

    # -- values -------------------------------------------------------------------------

    @property
    def fake(self) -> Faker:
        return self.fakers[self.rng.choice(LOCALES)]

    @property
    def us(self) -> Faker:
        return self.fakers["en_US"]

    def _token(self, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def _password(self) -> str:
        words = ["Welcome", "Summer", "Spring", "Admin", "Winter", "Dragon", "Monkey", "Secret"]
        return self.rng.choice(
            [
                f"{self.rng.choice(words)}{self.rng.randint(1990, 2026)}{self.rng.choice('#!$%@')}",
                self._token(self.rng.randint(10, 20)),
                self.us.password(length=self.rng.randint(10, 16)),
            ]
        )

    def _card(self) -> str:
        number = self.us.credit_card_number(
            self.rng.choice(["mastercard", "visa16", "amex", "discover", "jcb16", "diners"])
        )
        style = self.rng.random()
        if style < 0.4 and len(number) == 16:
            return " ".join(number[i : i + 4] for i in range(0, 16, 4))
        if style < 0.55 and len(number) == 16:
            return "-".join(number[i : i + 4] for i in range(0, 16, 4))
        return number

    def _ssn(self, dashes: bool) -> str:
        ssn = self.us.ssn()
        return ssn if dashes else ssn.replace("-", "")

    def _ip(self) -> str:
        return self.us.ipv4_public() if self.rng.random() < 0.7 else self.us.ipv6()

    def _dob(self) -> str:
        date = self.us.date_of_birth(minimum_age=18, maximum_age=90)
        return self.rng.choice(
            [date.isoformat(), date.strftime("%m/%d/%Y"), date.strftime("%d.%m.%Y")]
        )

    def _private_key(self) -> str:
        body = base64.b64encode(self.rng.randbytes(600)).decode()
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        kind = self.rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"])
        return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----"

    def secret(self, w: _Writer) -> tuple[str, str]:
        """A (name, value) pair of one of many kinds; the value is labelled."""
        hexd = string.hexdigits[:16]
        kinds: list[tuple[str, str, str]] = [
            (
                "AWS_ACCESS_KEY_ID",
                "AKIA" + self._token(16, string.ascii_uppercase + "234567"),
                "aws key id",
            ),
            (
                "AWS_SECRET_ACCESS_KEY",
                self._token(40, string.ascii_letters + string.digits + "/+"),
                "aws secret",
            ),
            ("GITHUB_TOKEN", "ghp_" + self._token(36), "github token"),
            ("GITLAB_TOKEN", "glpat-" + self._token(20), "gitlab token"),
            (
                "SLACK_BOT_TOKEN",
                f"xoxb-{self.rng.randint(10**10, 10**11)}-{self.rng.randint(10**10, 10**11)}-{self._token(24)}",
                "slack token",
            ),
            (
                "SLACK_WEBHOOK_URL",
                f"https://hooks.slack.com/services/T{self._token(8, string.ascii_uppercase + string.digits)}/B{self._token(8, string.ascii_uppercase + string.digits)}/{self._token(24)}",
                "slack webhook",
            ),
            ("STRIPE_SECRET_KEY", "sk_live_" + self._token(24), "stripe key"),
            ("OPENAI_API_KEY", "sk-proj-" + self._token(48), "openai key"),
            (
                "GOOGLE_API_KEY",
                "AIza" + self._token(35, string.ascii_letters + string.digits + "_-"),
                "gcp api key",
            ),
            ("SENDGRID_API_KEY", f"SG.{self._token(22)}.{self._token(43)}", "sendgrid key"),
            ("NPM_TOKEN", "npm_" + self._token(36), "npm token"),
            ("DB_PASSWORD", self._password(), "password"),
            ("SESSION_SECRET", self._token(32, hexd), "generic secret"),
            ("AUTH_JWT", self._jwt(), "jwt"),
            ("AZURE_STORAGE_CONNECTION_STRING", None, "azure account key"),
            ("DATABASE_URL", None, "connection string"),
        ]
        name, value, kind = self.rng.choice(kinds)
        if kind == "azure account key":
            key = self._token(86, string.ascii_letters + string.digits + "+/") + "=="
            w.pii("SECRET", key, kind)
            return (
                name,
                f"DefaultEndpointsProtocol=https;AccountName=acct{self.rng.randint(1, 99)};AccountKey={key};EndpointSuffix=core.windows.net",
            )
        if kind == "connection string":
            password = self._password().replace("@", "x").replace("#", "x")
            w.pii("SECRET", password, kind)
            scheme = self.rng.choice(["postgres", "mysql", "mongodb", "redis"])
            return name, f"{scheme}://app:{password}@db{self.rng.randint(1, 9)}.internal:5432/main"
        assert value is not None
        return name, w.pii("SECRET", value, kind)

    def _jwt(self) -> str:
        def part(data: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        return ".".join(
            [
                part({"alg": "HS256", "typ": "JWT"}),
                part({"sub": self._token(8), "iat": self.rng.randint(1.6e9, 1.8e9)}),
                self._token(43, string.ascii_letters + string.digits + "-_"),
            ]
        )

    # -- documents ------------------------------------------------------------------------

    _FIELDS: dict[str, tuple[str, ...]] = {
        "first": ("first_name", "firstName", "FirstName", "firstname", "given_name", "fname"),
        "last": ("last_name", "lastName", "surname", "family_name", "LastName", "lname"),
        "full": (
            "full_name",
            "fullName",
            "display_name",
            "holder",
            "customer_name",
            "contact_name",
            "cardholder",
        ),
        "email": (
            "email",
            "Email",
            "email_address",
            "emailAddress",
            "contact_email",
            "mail",
            "primaryEmail",
        ),
        "phone": (
            "phone",
            "phone_number",
            "phoneNumber",
            "mobile",
            "tel",
            "contact_phone",
            "Phone",
        ),
        "street": ("street", "street_address", "address", "address_line1", "addressLine1"),
        "city": ("city", "City", "town", "billing_city", "shippingCity"),
        "dob": ("dob", "birthdate", "date_of_birth", "DateOfBirth", "birth_date", "DOB"),
        "ssn": ("ssn", "SSN", "tax_id", "taxId", "social_security_number"),
        "card": ("card_number", "credit_card", "cc_number", "pan", "cardNumber"),
        "iban": ("iban", "IBAN", "bank_iban"),
        "ip": ("ip", "ip_address", "last_login_ip", "client_ip", "remoteAddr"),
    }

    def _person_row(self, w: _Writer) -> dict[str, object]:
        fake = self.fake
        row: dict[str, object] = {"id": self.rng.randint(1, 99999)}
        fields = self.rng.sample(list(self._FIELDS), k=self.rng.randint(4, 8))
        for name in fields:
            key = self.rng.choice(self._FIELDS[name])
            if name == "first":
                row[key] = w.pii("PERSON", fake.first_name())
            elif name == "last":
                row[key] = w.pii("PERSON", fake.last_name())
            elif name == "full":
                row[key] = w.pii("PERSON", fake.name())
            elif name == "email":
                row[key] = w.pii("EMAIL_ADDRESS", fake.email())
            elif name == "phone":
                row[key] = w.pii("PHONE_NUMBER", fake.phone_number())
            elif name == "street":
                row[key] = w.pii("LOCATION", fake.street_address())
            elif name == "city":
                row[key] = w.pii("LOCATION", fake.city())
            elif name == "dob":
                row[key] = w.pii("DATE_OF_BIRTH", self._dob())
            elif name == "ssn":
                ssn = self._ssn(dashes=self.rng.random() < 0.5)
                w.pii("US_SSN", ssn)
                row[key] = (
                    int(ssn) if ssn.isdigit() and ssn[0] != "0" and self.rng.random() < 0.3 else ssn
                )
            elif name == "card":
                card = self._card()
                w.pii("CREDIT_CARD", card)
                row[key] = int(card) if card.isdigit() and self.rng.random() < 0.3 else card
            elif name == "iban":
                row[key] = w.pii("IBAN_CODE", fake.iban())
            elif name == "ip":
                row[key] = w.pii("IP_ADDRESS", self._ip())
        row.update(self._benign())
        return row

    def _benign(self) -> dict[str, object]:
        rng = self.rng
        pool: dict[str, object] = {
            "amount": round(rng.uniform(1, 9999), 2),
            "created": rng.randint(1_600_000_000, 1_800_000_000),
            "created_ms": rng.randint(1_600_000_000_000, 1_800_000_000_000),
            "updated_at": self.us.iso8601(),
            "status": rng.choice(["active", "pending", "closed"]),
            "order_id": self.us.uuid4(),
            "quantity": rng.randint(1, 50),
            "sku": f"SKU-{rng.randint(10000, 99999)}",
            "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
            "score": round(rng.random(), 4),
            "account_id": rng.randint(10**8, 10**10),
            "invoice_no": str(rng.randint(10**9, 10**11)),
            "currency": rng.choice(["EUR", "USD", "GBP"]),
            "name": rng.choice(["Widget Pro", "Basic plan", "Gold support", "Starter kit"]),
        }
        keys = rng.sample(list(pool), k=rng.randint(3, 7))
        return {k: pool[k] for k in keys}

    def json_rows(self) -> Doc:
        w = _Writer("json rows")
        rows = [self._person_row(w) for _ in range(self.rng.randint(1, 4))]
        payload: object = rows if self.rng.random() < 0.5 else {"count": len(rows), "results": rows}
        indent = 2 if self.rng.random() < 0.5 else None
        w.doc.text = json.dumps(payload, ensure_ascii=False, indent=indent)
        return w.doc

    def psql_table(self) -> Doc:
        w = _Writer("psql table")
        fake = self.fake
        header = [
            "id",
            self.rng.choice(self._FIELDS["full"]),
            self.rng.choice(("tax_id", "ssn")),
            "email",
            "amount",
        ]
        rows = []
        for _ in range(self.rng.randint(2, 5)):
            rows.append(
                [
                    str(self.rng.randint(1, 999)),
                    w.pii("PERSON", fake.name()),
                    w.pii("US_SSN", self._ssn(dashes=self.rng.random() < 0.3)),
                    w.pii("EMAIL_ADDRESS", fake.email()),
                    f"{self.rng.uniform(1, 5000):.2f}",
                ]
            )
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def line(cells: list[str]) -> str:
            return "|".join(f" {c:<{widths[i]}} " for i, c in enumerate(cells)).rstrip()

        out = [line(header), "+".join("-" * (wd + 2) for wd in widths)]
        out += [line(r) for r in rows]
        out.append(f"({len(rows)} rows)")
        w.doc.text = "\n".join(out)
        return w.doc

    def csv_export(self) -> Doc:
        w = _Writer("csv export")
        names = ["first", "last", "phone", "city", "dob"]
        keys = [self.rng.choice(self._FIELDS[n]) for n in names]
        lines = [",".join(["id", *keys, "total"])]
        for _ in range(self.rng.randint(2, 5)):
            fake = self.fake
            cells = [
                w.pii("PERSON", fake.first_name()),
                w.pii("PERSON", fake.last_name()),
                w.pii("PHONE_NUMBER", fake.phone_number()),
                w.pii("LOCATION", fake.city()),
                w.pii("DATE_OF_BIRTH", self._dob()),
            ]
            cells = [f'"{c}"' if "," in c else c for c in cells]
            lines.append(
                ",".join(
                    [str(self.rng.randint(1, 9999)), *cells, f"{self.rng.uniform(1, 900):.2f}"]
                )
            )
        w.doc.text = "\n".join(lines)
        return w.doc

    def app_log(self) -> Doc:
        w = _Writer("app log")
        lines = []
        for _ in range(self.rng.randint(4, 9)):
            ts = self.us.iso8601()
            fake = self.fake
            choice = self.rng.randrange(9)
            rid = self._token(12, string.hexdigits[:16])
            if choice == 0:
                lines.append(
                    f"{ts} INFO auth: login ok user={w.pii('EMAIL_ADDRESS', fake.email())} ip={w.pii('IP_ADDRESS', self._ip())} request_id={rid}"
                )
            elif choice == 1:
                ip = w.pii("IP_ADDRESS", self.us.ipv6())
                lines.append(
                    f"{ts} WARN conn: {ip}: connection reset by peer after {self.rng.randint(1, 900)} ms"
                )
            elif choice == 2:
                card = self._card()
                lines.append(
                    f"{ts} ERROR billing: charge declined for card {w.pii('CREDIT_CARD', card)} amount={self.rng.uniform(1, 900):.2f} EUR"
                )
            elif choice == 3:
                code = str(self.rng.randint(100000, 999999))
                lines.append(
                    f"{ts} INFO sms: sent one-time code {w.pii('SECRET', code, 'otp')} to {w.pii('PHONE_NUMBER', fake.phone_number())}"
                )
            elif choice == 4:
                lines.append(
                    f"{ts} DEBUG crm: updated contact {w.pii('PERSON', fake.name())} ({w.pii('EMAIL_ADDRESS', fake.email())}) in {self.rng.randint(2, 80)} ms"
                )
            elif choice == 5:
                lines.append(
                    f"{ts} INFO kyc: verified tax_id={w.pii('US_SSN', self._ssn(dashes=False))} dob={w.pii('DATE_OF_BIRTH', self._dob())}"
                )
            elif choice == 6:
                name, value = self.secret(w)
                lines.append(f"{ts} DEBUG config: loaded {name}={value}")
            elif choice == 7:
                lines.append(
                    f"{ts} INFO http: GET /health 200 {self.rng.randint(100, 99999)} bytes {self.rng.uniform(0.1, 90):.1f}ms build={self.rng.randint(1000, 9999)}"
                )
            else:
                lines.append(
                    f"{ts} INFO worker: processed batch {self.rng.randint(1, 10**6)} of {self.rng.randint(10**6, 10**7)} records, pid={self.rng.randint(100, 65000)}"
                )
        w.doc.text = "\n".join(lines)
        return w.doc

    def access_log(self) -> Doc:
        w = _Writer("access log")
        lines = []
        for _ in range(self.rng.randint(3, 7)):
            fake = self.fake
            ip = w.pii("IP_ADDRESS", self._ip())
            email = fake.email()
            if self.rng.random() < 0.5:
                query = "email=" + w.pii("EMAIL_ADDRESS", email)
            else:
                encoded = email.replace("@", "%40")
                w.pii("EMAIL_ADDRESS", encoded, "EMAIL_ADDRESS (%40)")
                query = "q=" + encoded
            lines.append(
                f"{ip} - - [{self.us.date_time().strftime('%d/%b/%Y:%H:%M:%S +0000')}] "
                f'"GET /api/v2/users/search?{query}&page={self.rng.randint(1, 9)} HTTP/1.1" '
                f'200 {self.rng.randint(200, 90000)} "-" "Mozilla/5.0"'
            )
        w.doc.text = "\n".join(lines)
        return w.doc

    def mail(self) -> Doc:
        w = _Writer("mail")
        sender, recipient = self.fake, self.fake
        s_name, r_name = sender.name(), recipient.name()
        body_fake = self.fake
        phone = body_fake.phone_number()
        street, city = body_fake.street_address(), body_fake.city()
        text = (
            f'From: "{w.pii("PERSON", s_name)}" <{w.pii("EMAIL_ADDRESS", sender.email())}>\n'
            f"To: {w.pii('PERSON', r_name)} <{w.pii('EMAIL_ADDRESS', recipient.email())}>\n"
            f"Date: {self.us.date_time().strftime('%a, %d %b %Y %H:%M:%S +0000')}\n"
            f"Message-ID: <{self._token(16)}@mail.example.com>\n"
            f"Subject: Order {self.rng.randint(10000, 99999)} delivery\n\n"
            f"Hello {r_name.split()[0]},\n\n"
            f"please call me on {w.pii('PHONE_NUMBER', phone)} about the delivery to "
            f"{w.pii('LOCATION', street)}, {w.pii('LOCATION', city)}. "
            f"The invoice total is {self.rng.uniform(10, 900):.2f} EUR.\n"
        )
        if self.rng.random() < 0.4:
            code = str(self.rng.randint(100000, 999999))
            text += f"Your verification code is {w.pii('SECRET', code, 'otp')}.\n"
        if self.rng.random() < 0.3:
            text += f"Temporary password: {w.pii('SECRET', self._password(), 'password in mail')}\n"
        text += f"\nBest regards,\n{s_name}\n"
        w.pii("PERSON", r_name.split()[0])
        w.pii("PERSON", s_name)
        w.doc.text = text
        return w.doc

    def env_file(self) -> Doc:
        w = _Writer("env file")
        lines = ["APP_ENV=production", f"PORT={self.rng.randint(3000, 9000)}", "LOG_LEVEL=info"]
        for _ in range(self.rng.randint(2, 5)):
            name, value = self.secret(w)
            lines.append(f"{name}={value}" if self.rng.random() < 0.7 else f'{name}="{value}"')
        lines.append(f"ADMIN_EMAIL={w.pii('EMAIL_ADDRESS', self.fake.email())}")
        self.rng.shuffle(lines)
        w.doc.text = "\n".join(lines)
        return w.doc

    def k8s_secret(self) -> Doc:
        w = _Writer("k8s secret")
        password = self._password()
        encoded_pw = base64.b64encode(password.encode()).decode()
        w.pii("SECRET", encoded_pw, "k8s base64 password")
        lines = [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            f"  name: app-{self._token(5).lower()}",
            "  namespace: default",
            "type: Opaque",
            "data:",
            f"  password: {encoded_pw}",
        ]
        if self.rng.random() < 0.6:
            pem = base64.b64encode(self._private_key().encode()).decode()
            w.pii("SECRET", pem, "k8s base64 pem key")
            lines.append(f"  tls.key: {pem}")
        lines.append(f'  replicas: "{self.rng.randint(1, 5)}"')
        w.doc.text = "\n".join(lines)
        return w.doc

    def ini_config(self) -> Doc:
        w = _Writer("ini config")
        password = self._password()
        lines = [
            "[database]",
            f"host = db{self.rng.randint(1, 9)}.internal",
            f"port = {self.rng.choice([5432, 3306])}",
            "user = app",
            f"password = {w.pii('SECRET', password, 'password')}",
            "",
            "[smtp]",
            f"from = {w.pii('EMAIL_ADDRESS', self.fake.email())}",
            f"timeout = {self.rng.randint(5, 60)}",
        ]
        if self.rng.random() < 0.5:
            lines += [
                "",
                "[deploy]",
                f"ssh_key = {w.pii('SECRET', self._private_key(), 'pem private key')}",
            ]
        w.doc.text = "\n".join(lines)
        return w.doc

    def shell_history(self) -> Doc:
        w = _Writer("shell history")
        lines = []
        for _ in range(self.rng.randint(3, 6)):
            choice = self.rng.randrange(9)
            pw = self._password().replace("'", "")
            if choice == 0:
                lines.append(
                    f"mysql -u root -p'{w.pii('SECRET', pw, 'mysql -p')}' -h db.internal shop"
                )
            elif choice == 1:
                lines.append(
                    f"docker login -u ci -p {w.pii('SECRET', pw.replace('$', ''), 'docker login -p')} registry.example.com"
                )
            elif choice == 2:
                key = self._token(40, string.ascii_letters + string.digits + "/+")
                lines.append(
                    f"aws configure set aws_secret_access_key {w.pii('SECRET', key, 'aws configure set')}"
                )
            elif choice == 3:
                lines.append(
                    f"curl -u admin:{w.pii('SECRET', pw.replace('$', ''), 'curl -u')} https://api.example.com/v1/items"
                )
            elif choice == 4:
                lines.append(
                    f"sshpass -p '{w.pii('SECRET', pw, 'sshpass -p')}' ssh deploy@10.0.{self.rng.randint(0, 9)}.{self.rng.randint(1, 254)}"
                )
            elif choice == 5:
                name, value = self.secret(w)
                lines.append(f"export {name}='{value}'")
            elif choice == 6:
                token = "ghp_" + self._token(36)
                lines.append(
                    f"git clone https://x-access-token:{w.pii('SECRET', token, 'github token')}@github.com/acme/app.git"
                )
            elif choice == 7:
                lines.append(f"kubectl scale deploy/web --replicas={self.rng.randint(1, 9)}")
            else:
                lines.append(f"ls -la /var/log && tail -n {self.rng.randint(10, 500)} app.log")
        w.doc.text = "\n".join(lines)
        return w.doc

    def ci_log(self) -> Doc:
        w = _Writer("ci log")
        token = self._token(40, string.ascii_letters + string.digits)
        lines = [
            f"Run #{self.rng.randint(100, 9999)} started by {w.pii('PERSON', self.fake.name())}",
            f"$ curl -H 'Authorization: Bearer {w.pii('SECRET', token, 'bearer token')}' https://ci.example.com/api",
            f"Step 3/9 : RUN pip install -r requirements.txt ({self.rng.randint(10, 200)}s)",
        ]
        name, value = self.secret(w)
        lines.append(f"env: {name}={value}")
        lines.append(f"Finished in {self.rng.randint(30, 900)}s, exit code 0")
        w.doc.text = "\n".join(lines)
        return w.doc
