"""Values that used to reach the model, and data that used to be damaged: one test each.

Every case comes from generated tool output the redaction was not tuned on (see
``benchmarks/bench_redact.py``). Runs the real offline Presidio engine.
"""

from __future__ import annotations

import json
import time

import pytest

from firewall.redact.engine import analyzer_for
from firewall.redact.hints import hint_for_key
from firewall.redact.normalise import normalise
from firewall.redact.redactor import Redactor
from firewall.redact.settings import DEFAULT_ENTITIES, RedactionSettings


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(RedactionSettings(), bundle=analyzer_for(True))


@pytest.fixture(scope="module")
def plain() -> Redactor:
    return Redactor(RedactionSettings(ner=False), bundle=analyzer_for(False))


def shown(redactor: Redactor, output: object) -> str:
    """What the model sees of ``output`` in a session of its own."""
    out = redactor.redact(output, session=repr(output))
    assert not out.withheld, out.error
    return out.output if isinstance(out.output, str) else json.dumps(out.output)


# -- cards -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    ["2223 0031 2200 3222", "2720-9926-0001-8389", "6011000990139424", "3530111333300000"],
)
def test_a_card_number_is_found_by_its_checksum_not_its_issuer(plain: Redactor, card: str) -> None:
    assert card not in shown(plain, f"charge declined for {card} at 10:04")


def test_a_number_that_fails_luhn_is_no_card(plain: Redactor) -> None:
    assert "2223 0031 2200 3223" in shown(plain, "reference 2223 0031 2200 3223")


# -- column names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "entity"),
    [
        ("firstname", "PERSON"),
        ("FirstName", "PERSON"),
        ("display_name", "PERSON"),
        ("holder", "PERSON"),
        ("full-name", "PERSON"),
        ("billingCity", "LOCATION"),
        ("tax_id", "US_SSN"),
        ("TAXID", "US_SSN"),
        ("dob", "DATE_OF_BIRTH"),
        ("birthDate", "DATE_OF_BIRTH"),
        ("date_of_birth", "DATE_OF_BIRTH"),
        ("mac_address", "MAC_ADDRESS"),
        ("order_id", "NOT_PERSONAL"),
        ("file_name", None),
    ],
)
def test_column_names_are_matched_in_any_case_and_separator(key: str, entity: str | None) -> None:
    assert hint_for_key(key) == entity


def test_dates_of_birth_are_redacted_by_default(redactor: Redactor) -> None:
    assert "DATE_OF_BIRTH" in DEFAULT_ENTITIES
    rows = [{"id": 7, "Birthdate": "1984-02-29", "updated": "2025-01-02T10:00:00Z"}]
    out = redactor.redact(rows, session="dob")
    assert out.output[0]["Birthdate"] == "<DATE_OF_BIRTH_1>"
    assert out.output[0]["updated"] == "2025-01-02T10:00:00Z"  # a timestamp is no birth date
    assert "1990-05-17" not in shown(redactor, "patient born on 1990-05-17, seen today")


def test_names_and_places_under_their_column_names(redactor: Redactor) -> None:
    row = {"fname": "Marta", "surname": "Oostveen", "town": "Oisterwijk", "sku": "SKU-85827"}
    out = redactor.redact(row, session="crm")
    assert out.output["fname"].startswith("<PERSON_") and out.output["town"] == "<LOCATION_1>"
    assert out.output["surname"].startswith("<PERSON_") and out.output["sku"] == "SKU-85827"


# -- e-mail addresses in URLs ------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        'GET /users/search?email=a.b@libero.it&page=2 HTTP/1.1" 200',
        "GET /users/search?q=a.b%40libero.it&page=2",
        "https://crm.example.com/u?e=a.b%40libero.it",
    ],
)
def test_an_address_inside_a_url_is_found(plain: Redactor, line: str) -> None:
    text = shown(plain, line)
    assert "libero" not in text and "<EMAIL_ADDRESS_" in text


# -- credentials -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("mysql -u root -p'Welcome2018#' -h db.internal shop", "Welcome2018#"),
        ("mysql -uroot -pS3cretPass shop", "S3cretPass"),
        ("docker login -u ci -p s3cr3tPass registry.example.com", "s3cr3tPass"),
        ("echo ok; docker login --password hunter2x ghcr.io", "hunter2x"),
        (
            "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG",
        ),
        ("curl -u admin:Adm1n!2024 https://api.example.com/v1", "Adm1n!2024"),
        ("sshpass -p 'Tr0ub4dor' ssh deploy@10.0.0.5", "Tr0ub4dor"),
        ("redis-cli -h cache -a Redis#Pass1 ping", "Redis#Pass1"),
        ("Your one-time code is 482913. It expires in 10 minutes.", "482913"),
        ("OTP: 904512", "904512"),
        ("verification code 7731", "7731"),
        ("Temporary password: Xq7#kz9Lp", "Xq7#kz9Lp"),
        ("[database]\npassword = pl41nPass\nport = 5432", "pl41nPass"),
        ("NPM_TOKEN=npm_" + "a1B2c3D4e5" * 3 + "a1B2c3", "npm_a1B2"),
        ("SENDGRID_API_KEY=SG." + "x" * 22 + "." + "y" * 43, "SG.xxxx"),
    ],
)
def test_credentials_on_command_lines_and_in_config(
    plain: Redactor, line: str, secret: str
) -> None:
    out = plain.redact(line, session="creds")
    assert out.labels == {"secret"} or "secret" in out.labels
    assert secret not in out.output


def test_a_base64_private_key_in_a_kubernetes_secret(plain: Redactor) -> None:
    import base64

    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n"
    cert = "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE\n-----END CERTIFICATE-----\n"
    encoded = base64.b64encode(pem.encode()).decode()
    text = f"kind: Secret\ndata:\n  tls.key: {encoded}\n"
    out = plain.redact(text, session="k8s")
    assert out.entities.get("PRIVATE_KEY") == 1 and encoded not in str(out.output)
    harmless = f"  ca.crt: {base64.b64encode(cert.encode()).decode()}\n"
    assert plain.redact(harmless, session="k8s").entities == {}


def test_the_word_password_in_prose_is_no_password(plain: Redactor) -> None:
    text = "The password is required. Reset the password is what I did."
    assert shown(plain, text) == text


# -- other pattern gaps ------------------------------------------------------------------


def test_ssns_without_dashes_under_a_tax_id_column(plain: Redactor) -> None:
    table = (
        " id | full_name   | tax_id    | amount\n"
        "----+-------------+-----------+--------\n"
        "  1 | Gavin Gregory | 866059641 | 3500.73\n"
        "(1 row)"
    )
    text = shown(plain, table)
    assert "866059641" not in text and "3500.73" in text
    csv = "id,firstname,taxId,total\n7,Jane,294505205,12.50\n"
    assert "294505205" not in shown(plain, csv)
    assert "294505205" not in shown(plain, {"tax_id": 294505205})


@pytest.mark.parametrize(
    ("line", "address"),
    [
        ("2001:db8:85a3::8a2e:370:7334: connection reset by peer", "2001:db8:85a3::8a2e:370:7334"),
        ("peer [2001:db8::1]:443 closed", "2001:db8::1"),
        ("from fe80::1ff:fe23:4567:890a: timeout", "fe80::1ff:fe23:4567:890a"),
    ],
)
def test_ipv6_followed_by_a_colon(plain: Redactor, line: str, address: str) -> None:
    assert address not in shown(plain, line)


def test_times_and_std_names_are_no_ipv6(plain: Redactor) -> None:
    text = "at 12:30:45 std::vector<int> grew"
    assert shown(plain, text) == text


@pytest.mark.parametrize(
    "phone",
    ["+33 1 83 41 77 76", "04 15 39 15 00", "+49 (0) 9141 777631", "030 901820", "+39 3510500083"],
)
def test_european_phone_numbers(plain: Redactor, phone: str) -> None:
    assert phone not in shown(plain, f"Bitte rufen Sie {phone} an, merci.")


# -- evasion -----------------------------------------------------------------------------


def test_full_width_digits_and_zero_width_characters_do_not_hide_a_number(
    plain: Redactor,
) -> None:
    card = "\uff14\uff11\uff11\uff11 1111\u200b1111 1111"
    ssn = "219\u200b-09-\u200c9999"
    text = shown(plain, f"card {card}; SSN {ssn}; done")
    assert text == "card <CREDIT_CARD_1>; SSN <US_SSN_1>; done"


def test_spans_of_the_normalised_copy_map_back_to_the_original() -> None:
    original = "a\u200bb\uff11c%40d"
    copy = normalise(original)
    assert copy.text == "ab1c@d"
    for start in range(len(copy.text)):
        for end in range(start + 1, len(copy.text) + 1):
            begin, finish = copy.span(start, end)
            assert normalise(original[begin:finish]).text == copy.text[start:end]


# -- damage --------------------------------------------------------------------------------


def test_no_json_number_that_is_not_an_identifier_changes(redactor: Redactor) -> None:
    row = {
        "id": 123456789,
        "account_id": 5231872960,
        "amount": 3639.05,
        "created": 1737989360,
        "created_ms": 1737989360123,
        "quantity": 48,
        "score": 0.4878,
        "port": 5432,
        "total": 4111111111111111,  # passes Luhn, but the name says it is a total
        "ssn": 219099999,
        "card_number": 4111111111111111,
        "phone": 4155550143,
    }
    out = redactor.redact(json.dumps(row), session="numbers")
    back = json.loads(out.output)
    for key in ("id", "account_id", "amount", "created", "created_ms", "quantity", "score"):
        assert back[key] == row[key] and type(back[key]) is type(row[key])
    assert back["port"] == 5432
    assert back["ssn"] == "<US_SSN_1>" and back["phone"] == "<PHONE_NUMBER_1>"
    assert back["card_number"] == "<CREDIT_CARD_1>"


def test_a_card_number_as_a_bare_json_number_is_still_found(redactor: Redactor) -> None:
    out = redactor.redact([{"ref": "x", "value": 5555555555554444}], session="bare")
    assert out.output[0]["value"] != 5555555555554444


def test_log_numbers_stay(plain: Redactor) -> None:
    line = (
        "2018-01-15T02:47:40.002131 INFO http: GET /health 200 61332 bytes 34.6ms "
        "build=6105 pid=33803 request_id=18fa833e9c35 from 10.0.0.0/8"
    )
    assert shown(plain, line).replace("<IP_ADDRESS_1>", "10.0.0.0/8") == line


# -- cost ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "unit",
    [
        "a",
        "1 ",
        "1-",
        "a.",
        "x@",
        "password=",
        "mysql -p",
        "tax_id: ",
        "| a ",
        "\uff11\u200b",
        "2001:",
        "+1 ",
        "LS0tLS1CRUdJTi",
    ],
)
def test_cost_grows_linearly_on_hostile_text(plain: Redactor, unit: str) -> None:
    def seconds(size: int) -> float:
        """Best of two runs: a ratio of times, robust to a busy machine."""
        text = unit * (size // len(unit))
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            plain.redact(text, session="cost")
            best = min(best, time.perf_counter() - start)
        return best

    seconds(2_000)
    small, large = seconds(10_000), seconds(80_000)
    # 8x the text: linear is 8x, quadratic 64x; the bound leaves 4x for noise.
    assert large < max(small, 0.02) * 32
