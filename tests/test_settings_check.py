"""`cssw-docs config check` and the watcher's start: no setting can silently drop a route."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from cssw_docs import config, rubric
from cssw_docs.cli import cli
from cssw_docs.config import Settings
from cssw_docs.deliver import routes
from cssw_docs.service import status
from cssw_docs.service.settings_check import (
    ROUTE_LABELS,
    SettingsInvalid,
    check,
    format_check,
    mount_type,
    require_usable,
)
from cssw_docs.service.watch import Watcher
from service_support import drop, example_bytes, run_once

ROUTES = {
    "mail.qa_admin": ["qa.admin@camden.gov.uk"],
    "mail.head_of_qa": ["head.of.qa@camden.gov.uk"],
    "mail.smt": ["smt@camden.gov.uk"],
    "mail.learning_development": ["learning@camden.gov.uk"],
    "mail.moderation_coordinator": ["moderation@camden.gov.uk"],
}
SCHEDULE = {"retention.ledger_detail": 84}  # any schedule: without one, a warning says so
LOCAL = "/dev/vda / ext4 rw,relatime 0 0\n"


def _settings(tmp_path: Path, **changes) -> Settings:
    """Return usable settings with every route configured and folders under ``tmp_path``."""
    base = {
        "service.intake": tmp_path / "intake",
        "service.outbox": tmp_path / "outbox",
        "service.state_dir": tmp_path / "state",
        **ROUTES,
        **SCHEDULE,
    }
    return Settings().with_changes(**{**base, **changes})


def test_no_retention_schedule_is_a_warning_until_one_is_set(tmp_path):
    """Nothing is ever removed by default, and config check says so until a schedule is set."""
    unset = check(_settings(tmp_path, **{"retention.ledger_detail": None}), mounts=LOCAL)
    assert unset.ok
    assert any("No retention schedule set" in w for w in unset.warnings)
    assert "No retention schedule set" in format_check(unset)
    assert not any("retention" in w for w in check(_settings(tmp_path), mounts=LOCAL).warnings)


def test_usable_settings_pass_with_every_route_listed(tmp_path):
    """Folders that can be made, addresses that parse: no problem, no warning, five routes."""
    result = check(_settings(tmp_path), mounts=LOCAL)
    assert result.ok and result.problems == [] and result.warnings == []
    listed = {r.setting: r.recipients for r in result.routes}
    assert listed == {k: tuple(v) for k, v in ROUTES.items()}


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"mail.smt": ['"SMT" <smt@camden.gov.uk>']}, "mail.smt: "),
        ({"mail.head_of_qa": ["hq@camden.gov.uk; dep@camden.gov.uk"]}, "mail.head_of_qa: "),
        ({"mail.qa_admin": ["qa admin@camden.gov.uk"]}, "mail.qa_admin: "),
        ({"mail.learning_development": ["ld@camden.gov.uk\nBcc: x@evil.org"]}, "mail.learning"),
        (
            {"mail.allowed_domains": ["camden.gov.uk"], "mail.smt": ["smt@gmail.com"]},
            "outside mail.allowed_domains",
        ),
        ({"mail.allowed_domains": ["camden gov uk"]}, "mail.allowed_domains: 'camden gov uk'"),
        ({"validation.email_domains": ["x@y"]}, "validation.email_domains"),
        ({"mail.sender": "QA unit"}, "mail.sender"),
        ({"mail.security": "ssl"}, "mail.security"),
        ({"mail.port": 70000}, "mail.port"),
        ({"service.max_attempts": 0}, "service.max_attempts"),
        ({"service.settle_seconds": -1}, "service.settle_seconds"),
        ({"oversight.moderation_percent": 120}, "oversight.moderation_percent"),
        ({"render.marking": " "}, "render.marking is empty"),
        ({"render.templates_dir": "no-such-folder"}, "render.templates_dir"),
        ({"rubric": "no-such-rubric.toml"}, "rubric ("),
        ({"validation.anonymity_list": "no-such-places.toml"}, "validation.anonymity_list"),
        ({"mail.ca_file": "no-such-ca.pem"}, "mail.ca_file"),
        ({"mail.transport": "graph", "mail.allowed_domains": ["camden.gov.uk"]}, "tenant_id"),
        ({"mail.host": "smtp.camden.gov.uk"}, "allowed_domains is empty"),
        ({"service.state_dir": "/proc/cssw-docs-state"}, "cannot be created in /proc"),
    ],
)
def test_each_unusable_setting_is_a_problem(tmp_path, changes, complaint):
    """Each unusable setting is named, in words, and makes the check fail."""
    result = check(_settings(tmp_path, **changes), mounts=LOCAL, environ={})
    assert not result.ok
    assert any(complaint in p for p in result.problems), result.problems


def test_a_folder_that_is_a_file_is_a_problem(tmp_path):
    """The intake folder named as an existing file is refused by the check."""
    (tmp_path / "intake").write_text("not a folder")
    result = check(_settings(tmp_path), mounts=LOCAL)
    assert not result.ok
    assert any(p.startswith("service.intake") and "is a file" in p for p in result.unreachable)


def test_a_folder_under_a_file_is_a_problem(tmp_path):
    """An outbox that could never be created (a file is in the way) is refused by the check."""
    (tmp_path / "blocker").write_text("x")
    result = check(_settings(tmp_path, **{"service.outbox": tmp_path / "blocker" / "out"}))
    assert not result.ok
    assert any(p.startswith("service.outbox") for p in result.unreachable)


def test_the_watcher_starts_with_the_share_away_and_says_so(tmp_path):
    """An outbox it cannot use yet is a warning at start: workbooks are kept and retried."""
    (tmp_path / "outbox").write_text("the share is not mounted")
    result = require_usable(_settings(tmp_path), mounts=LOCAL)
    assert result.problems == []
    assert any(w.startswith("service.outbox") and "tried again" in w for w in result.warnings)


def test_the_watcher_will_not_start_without_its_ledger_folder(tmp_path):
    """state_dir that cannot be used stops the watcher: there is nowhere to keep the ledger."""
    with pytest.raises(SettingsInvalid, match=r"service\.state_dir"):
        require_usable(_settings(tmp_path, **{"service.state_dir": "/proc/cssw-docs"}))


@pytest.mark.parametrize("fstype", ["nfs", "nfs4", "cifs", "smb3", "sshfs", "fuse.sshfs"])
def test_a_ledger_on_a_network_file_system_is_a_problem(tmp_path, fstype):
    """state_dir on a share (read from /proc/mounts) is refused: SQLite there corrupts."""
    mounts = LOCAL + f"//server/share {tmp_path} {fstype} rw 0 0\n"
    result = check(_settings(tmp_path), mounts=mounts)
    assert any(
        p.startswith("service.state_dir") and f"network file system ({fstype})" in p
        for p in result.problems
    )


def test_an_intake_on_a_share_without_polling_is_a_warning(tmp_path):
    """Intake on a share is expected, but inotify sees nothing there: polling is advised."""
    mounts = LOCAL + f"//server/share {tmp_path / 'intake'} cifs rw 0 0\n"
    (tmp_path / "intake").mkdir()
    result = check(_settings(tmp_path), mounts=mounts)
    assert result.ok
    assert any("polling = true" in w for w in result.warnings)


def test_the_nearest_mount_point_decides(tmp_path):
    """A local folder mounted inside a share counts as local, and the other way round."""
    mounts = LOCAL + f"srv {tmp_path} nfs rw 0 0\ndisk {tmp_path / 'local'} ext4 rw 0 0\n"
    assert mount_type(tmp_path / "local" / "state", mounts) == "ext4"
    assert mount_type(tmp_path / "share" / "state", mounts) == "nfs"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_an_unconfigured_route_is_a_warning_not_a_problem(tmp_path, route):
    """A route with nobody on it is listed as not configured and warned about."""
    result = check(_settings(tmp_path, **{route: []}), mounts=LOCAL)
    assert result.ok
    assert [r.recipients for r in result.routes if r.setting == route] == [()]
    assert len(result.warnings) == 1 and f"({route}) is not configured" in result.warnings[0]


def _config_file(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "cssw-docs.toml"
    path.write_text(
        f'[service]\nintake = "{tmp_path / "intake"}"\noutbox = "{tmp_path / "outbox"}"\n'
        f'state_dir = "{tmp_path / "state"}"\n[mail]\nhead_of_qa = ["head.of.qa@camden.gov.uk"]\n'
        + extra,
        "utf-8",
    )
    return str(path)


def test_config_check_lists_each_route_and_exits_0_when_usable(tmp_path):
    """The command lists every route with its recipients or `not configured`; exit status 0."""
    result = CliRunner().invoke(cli, ["--config", _config_file(tmp_path), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "Head of Quality Assurance (mail.head_of_qa): head.of.qa@camden.gov.uk" in result.output
    assert "Senior management team (mail.smt): not configured" in result.output
    assert "The settings are usable." in result.output


def test_config_check_exits_1_and_says_what_to_fix(tmp_path, monkeypatch):
    """An address that is not one plain address: exit status 1 and the problem, numbered."""
    monkeypatch.setenv("CSSW_DOCS_MAIL__SMT", "smt@camden.gov.uk; ld@camden.gov.uk")
    result = CliRunner().invoke(cli, ["--config", _config_file(tmp_path), "config", "check"])
    assert result.exit_code == 1
    assert "1. mail.smt: " in result.output and "1 problem to fix." in result.output


def test_config_check_reports_a_setting_that_cannot_be_read(tmp_path):
    """A setting of the wrong kind stops the command with the setting named (exit status 1)."""
    path = _config_file(tmp_path, "smt = 5\n")
    result = CliRunner().invoke(cli, ["--config", path, "config", "check"])
    assert result.exit_code == 1
    assert "mail.smt must be a list" in result.output


def test_watch_will_not_start_with_an_unusable_setting(tmp_path, monkeypatch):
    """The watcher runs the same check first: a plain message, nothing created, exit status 1."""
    monkeypatch.setenv("CSSW_DOCS_MAIL__HEAD_OF_QA", '"Head of QA" <hq@camden.gov.uk>')
    result = CliRunner().invoke(cli, ["--config", _config_file(tmp_path), "watch", "--once"])
    assert result.exit_code == 1
    assert "will not start" in result.output and "mail.head_of_qa" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "state").exists()


def test_status_shows_an_unconfigured_route(tmp_path):
    """`status` repeats the warning, so nobody has to read the start-up log to find it."""
    result = CliRunner().invoke(cli, ["--config", _config_file(tmp_path), "status"])
    assert result.exit_code == 0, result.output
    assert "Settings to look at" in result.output
    assert "Senior management team (mail.smt) is not configured" in result.output


@pytest.mark.slow
def test_watch_logs_an_unconfigured_route_at_start(tmp_path, caplog):
    """At start each route with nobody on it is logged as a warning."""
    settings = _settings(tmp_path, **{"mail.smt": []})
    with caplog.at_level("WARNING"):
        Watcher(settings, rubric.load(), once=True).run()
    assert any("(mail.smt) is not configured" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_smt_in_the_form_config_show_prints_reaches_smt_through_the_watcher(tmp_path):
    """CSSW_DOCS_MAIL__SMT='["smt@camden.gov.uk"]': a Good Final job is processed and SMT get it.

    It used to be read as one address holding brackets and quotes: the message to SMT was
    held back (and, before the one address parser, the job failed on a header error).
    """
    intake = tmp_path / "intake"
    intake.mkdir()
    drop(intake, "good.xlsx", example_bytes("good"))
    shown = config.to_toml(Settings().with_changes(**{"mail.smt": ["smt@camden.gov.uk"]}), {})
    value = next(ln for ln in shown.splitlines() if ln.startswith("smt ="))
    assert value == 'smt = ["smt@camden.gov.uk"]'
    done = run_once(tmp_path, CSSW_DOCS_MAIL__SMT=value.split("=", 1)[1].strip())
    assert done.returncode == 0, done.stderr
    assert list((intake / "processed").glob("*/good.xlsx"))
    assert not (intake / "failed").exists()
    to = []
    for eml in (tmp_path / "outbox" / "mail").glob("*/*.eml"):
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        to.append(str(msg["To"]))
    assert any("smt@camden.gov.uk" in t for t in to), to


def test_every_configured_list_has_words_for_config_check():
    """Each address list the routes use is named and explained in the check's route list."""
    assert set(routes.CONFIGURED_LISTS) == set(ROUTE_LABELS)


def test_status_says_no_retention_schedule_is_set_until_one_is(tmp_path):
    """`status` repeats the warning (from the same check), and drops it once a schedule is set."""
    unset = _settings(tmp_path, **{"retention.ledger_detail": None})
    shown = status.format_status(status.gather(unset))
    assert "No retention schedule set" in shown
    scheduled = status.format_status(status.gather(_settings(tmp_path)))
    assert "No retention schedule set" not in scheduled
