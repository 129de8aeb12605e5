"""The path classifier: operation -> intent, normalised paths, traversal out of the base,
and sensitive places wherever the home directory is."""

from __future__ import annotations

import pytest

from firewall.intent import get_classifier
from firewall.intent.path import classify

BASE = "/srv/work"


def path(value: object, **options: object):
    return classify(value, {"base": BASE, **options})


@pytest.mark.parametrize(
    ("operation", "intent"),
    [("read", "file.read"), ("write", "file.write"), ("delete", "file.delete")],
)
def test_operation_decides_the_intent(operation: str, intent: str) -> None:
    assert path("notes.txt", operation=operation).intents == {intent}


@pytest.mark.parametrize(
    ("mode", "intent"),
    [("r", "file.read"), ("w", "file.write"), ("a", "file.write"), ("remove", "file.delete")],
)
def test_operation_from_another_argument(mode: str, intent: str) -> None:
    options = {"operation_argument": "mode", "_arguments": {"path": "a", "mode": mode}}
    assert classify("a", options).intents == {intent}


def test_missing_or_odd_operation_is_unknown() -> None:
    assert classify("a", {"operation_argument": "mode", "_arguments": {}}).intents == {"unknown"}
    assert classify("a", {"operation": "chmod"}).intents == {"unknown"}


def test_paths_are_normalised_against_the_base() -> None:
    facts = path(["src/./app.py", "/srv/work/docs/../README.md"]).facts
    assert facts["paths"] == ["/srv/work/src/app.py", "/srv/work/README.md"]
    assert facts["traversal"] is False and facts["outside_base"] is False


@pytest.mark.parametrize(
    ("value", "traversal", "outside"),
    [
        ("../../etc/passwd", True, True),
        ("src/../../other/x", True, True),
        ("/srv/work/../work2/x", True, True),
        ("..\\..\\etc\\hosts", True, True),
        ("src/../docs/x", False, False),
        ("/etc/hosts", False, True),
        ("~/notes.txt", False, True),
    ],
)
def test_traversal_and_outside_base(value: str, traversal: bool, outside: bool) -> None:
    facts = path(value).facts
    assert (facts["traversal"], facts["outside_base"]) == (traversal, outside), facts


def test_without_a_base_relative_paths_stay_relative() -> None:
    facts = classify("../secrets/x", {}).facts
    assert facts["paths"] == ["../secrets/x"]
    assert facts["traversal"] is True and facts["outside_base"] is False


@pytest.mark.parametrize(
    ("value", "operation", "category"),
    [
        ("~/.ssh/id_rsa", "read", "ssh"),
        ("/home/alice/.ssh/authorized_keys", "write", "ssh"),
        ("/root/.SSH/id_ed25519", "read", "private_key"),
        (".env", "read", "dotenv"),
        ("config/.env.production", "read", "dotenv"),
        ("~/.aws/credentials", "read", "cloud_credentials"),
        (
            "/home/bob/.config/gcloud/application_default_credentials.json",
            "read",
            "cloud_credentials",
        ),
        ("~/.azure/accessTokens.json", "read", "cloud_credentials"),
        ("~/.kube/config", "read", "kube_config"),
        ("/etc/shadow", "read", "password_database"),
        ("/etc/sudoers.d/90-agent", "write", "password_database"),
        ("/etc/passwd", "write", "system_accounts"),
        ("~/.bashrc", "write", "shell_startup"),
        ("/etc/profile.d/x.sh", "write", "shell_startup"),
        ("repo/.git/config", "read", "git_config"),
        ("repo/.git/hooks/pre-commit", "write", "git_hooks"),
        ("certs/server.key", "read", "private_key"),
        ("~/.netrc", "read", "credentials_file"),
        ("~/.docker/config.json", "read", "credentials_file"),
        ("~/.bash_history", "read", "shell_history"),
        ("/etc/cron.d/job", "write", "persistence"),
        ("~/.config/systemd/user/x.service", "write", "persistence"),
        ("/proc/1/environ", "read", "process_memory"),
        ("/usr/bin/python3", "write", "system_files"),
        ("file:///etc/shadow", "read", "password_database"),
    ],
)
def test_sensitive_places(value: str, operation: str, category: str) -> None:
    facts = path(value, operation=operation).facts
    assert category in facts["sensitive"], facts


@pytest.mark.parametrize(
    ("value", "operation"),
    [
        ("src/app.py", "write"),
        (".env.example", "read"),
        ("/etc/passwd", "read"),  # readable by everyone; only writes are sensitive
        ("/usr/share/doc/x", "read"),
        ("docs/ssh.md", "read"),
        ("/dev/null", "write"),
        ("/usr/local/share/app/data", "write"),
    ],
)
def test_ordinary_places_are_not_sensitive(value: str, operation: str) -> None:
    assert path(value, operation=operation).facts["sensitive"] == []


def test_home_option_makes_tilde_absolute() -> None:
    facts = classify("~/.ssh/id_rsa", {"home": "/home/alice"}).facts
    assert facts["paths"] == ["/home/alice/.ssh/id_rsa"]
    assert "ssh" in facts["sensitive"]


@pytest.mark.parametrize(
    "value", ["", "  ", "a\x00b", "a\nb", "x" * 5000, None, 3, [], [1, "a"], {"p": "a"}]
)
def test_unusable_values_are_unknown(value: object) -> None:
    result = path(value)
    assert result.intents == {"unknown"}
    assert result.facts["error"]


def test_options_are_checked_at_policy_load() -> None:
    validate = get_classifier("path").validate_options
    assert validate is not None
    validate({"operation": "write", "base": "/srv"})
    for bad in (
        {"operation": "move"},
        {"base": "relative/dir"},
        {"operation": "read", "operation_argument": "mode"},
    ):
        with pytest.raises(ValueError):
            validate(bad)


def test_registered_with_every_fact_it_produces() -> None:
    facts = get_classifier("path").facts
    assert set(path("a").facts) == facts
    assert set(path(None).facts) == facts


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (".env.bak", "dotenv"),
        (".env~", "dotenv"),
        ("#.env#", "dotenv"),
        (".env.production.old", "dotenv"),
        ("/home/u/.ssh/id_rsa.bak", "ssh"),
        ("/home/u/.ssh/.id_rsa.swp", "private_key"),
        ("/home/u/.aws/credentials.orig", "cloud_credentials"),
        ("/home/u/.bash_history~", "shell_history"),
    ],
)
def test_backup_and_editor_copies_count_as_the_file(value: str, category: str) -> None:
    assert category in path(value, operation="read").facts["sensitive"]


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("FILE:///etc/shadow", "password_database"),
        ("file://localhost/etc/shadow", "password_database"),
        ("file:/home/u/.ssh/id_ed25519", "ssh"),
        ("C:\\Users\\dev\\.ssh\\id_rsa", "ssh"),
        ("c:/Users/dev/.aws/credentials", "cloud_credentials"),
        ("\\\\fileserver\\share\\.env", "dotenv"),
        ("C:\\Windows\\System32\\config\\SAM", "password_database"),
        ("D:\\backup\\ntds.dit", "password_database"),
        (".env::$DATA", "dotenv"),
        (".env.", "dotenv"),
    ],
)
def test_url_windows_and_unc_forms_are_read_as_paths(value: str, category: str) -> None:
    assert category in path(value, operation="read").facts["sensitive"]


def test_ordinary_names_are_not_taken_for_copies() -> None:
    for value in ("notes.bak", "README.md", "build.old/app.py", ".env.example"):
        assert path(value, operation="read").facts["sensitive"] == [], value


def test_glob_matching_takes_time_linear_in_its_inputs() -> None:
    import time

    from firewall.intent.path import glob_candidates, glob_match

    assert glob_match(".e?v", ".env") and glob_match("id_*", "id_rsa")
    assert glob_match("[.]en[a-z]", ".env") and not glob_match("[!.]env", ".env")
    start = time.perf_counter()
    assert not glob_match("*a" * 2000 + "b", "a" * 40)
    assert time.perf_counter() - start < 0.5
    assert "/home/u/.ssh/id_rsa" in glob_candidates("/home/u/.ss?/id_*")
    assert glob_candidates("src/*.py") == []


def test_writes_to_windows_system_directories_are_system_files() -> None:
    facts = path("C:\\Windows\\System32\\drivers\\etc\\hosts", operation="write").facts
    assert facts["sensitive"] == ["system_files"]
    assert facts["outside_base"] is True
