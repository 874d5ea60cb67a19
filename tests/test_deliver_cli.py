"""Tests for the `cssw-docs mail` commands (status, send, retry) through the real CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cssw_docs import examples
from cssw_docs.cli import cli
from cssw_docs.deliver import outbox
from deliver_support import mail_settings, make_pack


def _config(tmp_path, allowed: str = '["camden.gov.uk"]'):
    path = tmp_path / "cssw-docs.toml"
    path.write_text(
        f'[service]\nstate_dir = "{tmp_path / "state"}"\noutbox = "{tmp_path / "outbox"}"\n'
        f'[mail]\nallowed_domains = {allowed}\nqa_admin = ["qa.admin@camden.gov.uk"]\n',
        "utf-8",
    )
    return path


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def queued(tmp_path, good_audit):
    """A ledger with a Final pack queued, its final message blocked by the allowlist."""
    sub = examples.variant(good_audit, practitioner_email="tom.baxter@gmail.com")
    settings = mail_settings(allowed_domains=["camden.gov.uk"]).with_changes(
        **{"service.state_dir": tmp_path / "state", "service.outbox": tmp_path / "outbox"}
    )
    ids = outbox.enqueue_pack(
        outbox.outbox_db(settings),
        job_id="job-1",
        submission=sub,
        pack=make_pack(tmp_path / "outbox"),
        settings=settings,
    )
    return sub, ids


def test_status_without_a_ledger(tmp_path):
    """Before anything is queued, status says so plainly."""
    result = _run("--config", str(_config(tmp_path)), "mail", "status")
    assert result.exit_code == 0
    assert "No mail has been queued yet" in result.output


@pytest.mark.slow
def test_status_lists_what_is_not_sent(tmp_path, queued):
    """Status counts every state and lists the blocked message, without child identifiers."""
    sub, ids = queued
    result = _run("--config", str(_config(tmp_path)), "mail", "status")
    assert result.exit_code == 0
    assert (
        "4 waiting, 0 being sent, 0 written, not sent (no mail server set), 0 failed, 1 blocked"
        in result.output
    )
    assert ids[0].strip("<>")[:16] in result.output
    assert "outside mail.allowed_domains: tom.baxter@gmail.com" in result.output
    assert sub.child_mosaic_id not in result.output
    assert sub.child_name.split()[-1] not in result.output


def test_send_writes_eml_files(tmp_path, queued):
    """`mail send` sends what is due (here as .eml files) and says what happened."""
    result = _run("--config", str(_config(tmp_path)), "mail", "send")
    assert result.exit_code == 0
    assert (
        "Mail: 4 written, not sent (no mail server set), 0 to retry, 0 failed, 0 blocked, 0 waiting"
        in result.output
    )
    assert len(list((tmp_path / "outbox" / "mail").rglob("*.eml"))) == 4


def test_retry_blocked_after_allowing_the_domain(tmp_path, queued):
    """Once the domain is allowed, retrying the blocked message sends it."""
    _, ids = queued
    config = _config(tmp_path, allowed='["camden.gov.uk", "gmail.com"]')
    result = _run("--config", str(config), "mail", "retry", ids[0].strip("<>")[:16])
    assert result.exit_code == 0, result.output
    assert "1 message(s) queued again." in result.output
    assert "Mail: 5 written, not sent (no mail server set)" in result.output


def test_retry_blocked_while_still_outside_stays_blocked(tmp_path, queued):
    """Retrying a blocked message without changing the allowlist blocks it again."""
    _, ids = queued
    result = _run("--config", str(_config(tmp_path)), "mail", "retry", ids[0])
    assert "1 blocked" in result.output
    outputs = list((tmp_path / "outbox" / "mail").rglob("*.eml"))
    assert all(b"tom.baxter@gmail.com" not in p.read_bytes().split(b"\r\n\r\n")[0] for p in outputs)


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        ((), 2, "Name the messages to retry"),
        (("0123456789abcdef",), 1, "No message 0123456789abcdef in the outbox"),
        (("abc",), 1, "too short"),
    ],
)
def test_retry_mistakes_are_one_sentence(tmp_path, queued, args, code, words):
    """Retry without IDs, with an unknown ID or too short an ID explains itself."""
    result = CliRunner().invoke(cli, ["--config", str(_config(tmp_path)), "mail", "retry", *args])
    assert result.exit_code == code
    assert words in result.output
    assert "Traceback" not in result.output
