"""Delivery through Microsoft 365 (SMTP XOAUTH2 and Graph) against stand-ins on loopback.

MSAL talks to a token endpoint over HTTPS (a test CA trusted through mail.ca_file, instance
discovery off, tenant discovery served by the stand-in); aiosmtpd checks XOAUTH2 bearer tokens;
the Graph stand-in checks the token, the payload, the request-size limit and throttles.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import textwrap
from email import policy
from email.parser import BytesParser

import pytest
import tomli_w
from click.testing import CliRunner

from cssw_docs import config
from cssw_docs.cli import cli
from cssw_docs.deliver import alerts, graph, oauth, probe, routes
from cssw_docs.deliver import outbox as deliver
from cssw_docs.models import DocKind, Route
from cssw_docs.store import db as ledger_db
from cssw_docs.store import mail as mail_table
from deliver_support import free_port, mail_settings, make_pack
from m365_support import (
    MAILBOX,
    SECRET,
    SECRET_ENV,
    StandIn,
    m365_mail,
    m365_settings,
    make_app_certificate,
    make_pki,
    start_xoauth2_server,
)

ENV = {SECRET_ENV: SECRET}
TRANSPORTS = ("smtp-oauth", "graph")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA and a certificate for 127.0.0.1 signed by it."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def app_certificate(tmp_path_factory):
    """The app registration's certificate and key, in a file only its owner can read."""
    return make_app_certificate(tmp_path_factory.mktemp("app"))


@pytest.fixture(autouse=True)
def fresh_tokens():
    """Each test signs in afresh (tokens are cached per process, as in the service)."""
    oauth.forget_tokens()
    yield
    oauth.forget_tokens()


@pytest.fixture
def standin(pki, app_certificate):
    """Entra ID and Microsoft Graph on https://127.0.0.1."""
    server = StandIn(pki, app_certificate=app_certificate).start()
    yield server
    server.stop()


@pytest.fixture
def smtp(standin):
    """An SMTP server requiring STARTTLS and AUTH XOAUTH2 with a stand-in token."""
    controller, handler = start_xoauth2_server(standin)
    yield controller, handler
    controller.stop()


def _settings(standin, smtp, transport: str, **mail):
    port = smtp[0].port if transport == "smtp-oauth" else 0
    return m365_settings(standin, transport, port, **mail)


def _delivered(standin, smtp, transport: str) -> list[bytes]:
    """Return the MIME bytes that reached the recipients, in order."""
    if transport == "graph":
        return [post.mime for post in standin.posts]
    return [message.data for message in smtp[1].received]


def _message_id(data: bytes) -> str:
    return str(BytesParser(policy=policy.default).parsebytes(data)["Message-ID"])


def _enqueue(tmp_path, sub, settings, job: str = "job-1", pack=None) -> list[str]:
    return deliver.enqueue_pack(
        tmp_path / "state" / "ledger.sqlite3",
        job_id=job,
        submission=sub,
        pack=pack or make_pack(tmp_path / "outbox"),
        settings=settings,
    )


def _send(tmp_path, settings, when=None, environ=ENV):
    return deliver.send_pending(
        tmp_path / "state" / "ledger.sqlite3",
        settings,
        outbox=tmp_path / "outbox",
        now=when,
        environ=environ,
    )


def _rows(tmp_path) -> dict[str, dict]:
    conn = ledger_db.connect(tmp_path / "state" / "ledger.sqlite3")
    try:
        return {r["message_id"]: dict(r) for r in mail_table.rows(conn)}
    finally:
        conn.close()


def _stored(tmp_path, message_id: str) -> bytes:
    conn = ledger_db.connect(tmp_path / "state" / "ledger.sqlite3")
    try:
        return mail_table.message_bytes(conn, message_id)
    finally:
        conn.close()


# --- Sending, with a secret or a certificate -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("credential", ["secret", "certificate"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pack_is_sent_with_the_exact_queued_bytes(
    tmp_path, standin, smtp, good_audit, app_certificate, transport, credential
):
    """Each message goes once, byte for byte as queued, signed in with a secret or certificate."""
    extra = (
        {"certificate_file": str(app_certificate.pem_file)} if credential == "certificate" else {}
    )
    settings = _settings(standin, smtp, transport, **extra)
    ids = _enqueue(tmp_path, good_audit, settings)
    summary = _send(tmp_path, settings, environ=ENV if credential == "secret" else {})
    assert (summary.sent, summary.pending) == (4, 0)
    delivered = _delivered(standin, smtp, transport)
    assert sorted(_message_id(d) for d in delivered) == sorted(ids)
    assert all(d == _stored(tmp_path, _message_id(d)) for d in delivered)
    assert [r["credential"] for r in standin.token_requests] == [credential]
    scope = oauth.OUTLOOK_SCOPE if transport == "smtp-oauth" else f"{standin.url}/.default"
    assert standin.token_requests[0]["scope"] == scope
    if transport == "smtp-oauth":
        assert [user for user, _ in smtp[1].attempts] == [MAILBOX]


def test_graph_without_sent_items_keeps_the_message_id(tmp_path, standin, smtp, good_audit):
    """save_to_sent_items = false uses Graph's JSON form, with our Message-ID and attachments."""
    settings = _settings(standin, smtp, "graph", save_to_sent_items=False)
    ids = _enqueue(tmp_path, good_audit, settings)
    assert _send(tmp_path, settings).sent == 4
    for post in standin.posts:
        request = json.loads(post.body)
        assert request["saveToSentItems"] is False
        message = request["message"]
        assert message["internetMessageId"] in ids
        queued = BytesParser(policy=policy.default).parsebytes(
            _stored(tmp_path, message["internetMessageId"])
        )
        assert [a["name"] for a in message["attachments"]] == [
            p.get_filename() for p in queued.iter_attachments()
        ]
        assert [base64.b64decode(a["contentBytes"]) for a in message["attachments"]] == [
            p.get_payload(decode=True) for p in queued.iter_attachments()
        ]
        assert {r["emailAddress"]["address"] for r in message["toRecipients"]} <= set(
            json.loads(_rows(tmp_path)[message["internetMessageId"]]["recipients"])
        )


def test_ca_file_wins_over_requests_ca_bundle(tmp_path, standin, smtp, monkeypatch):
    """mail.ca_file is used even when REQUESTS_CA_BUNDLE names another CA (requests' default)."""
    other = make_pki(tmp_path / "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other.ca_file))
    settings = _settings(standin, smtp, "graph")
    result = probe.send_test(
        settings, "qa.admin@camden.gov.uk", db=tmp_path / "l.sqlite3", outbox=tmp_path, environ=ENV
    )
    assert result.sent, result.text
    assert len(standin.token_requests) == 1 and len(standin.posts) == 1


def test_certificate_readable_by_others_is_refused(tmp_path, standin, smtp, good_audit):
    """A private key other accounts can read is not used: nothing is asked of Entra ID."""
    loose = make_app_certificate(tmp_path / "loose", mode=0o644)
    settings = _settings(standin, smtp, "graph", certificate_file=str(loose.pem_file))
    result = probe.send_test(
        settings, "qa.admin@camden.gov.uk", db=tmp_path / "ledger.sqlite3", outbox=tmp_path
    )
    assert not result.sent
    assert "other accounts can read it (mode 644)" in result.text
    assert "chmod 600" in result.text
    assert standin.token_requests == [] and standin.posts == []


# --- Tokens: cached, renewed before expiry, renewed once when refused ----------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("expires_in", "requests"), [(3600, 1), (240, 8)])
def test_token_is_reused_until_five_minutes_before_expiry(
    tmp_path, standin, smtp, good_audit, expires_in, requests
):
    """A token is reused across runs; one with under five minutes left is renewed first."""
    standin.expires_in = expires_in
    settings = _settings(standin, smtp, "graph")
    _enqueue(tmp_path, good_audit, settings, "job-1")
    first = _send(tmp_path, settings)
    _enqueue(tmp_path, good_audit, settings, "job-2")
    second = _send(tmp_path, settings)
    assert (first.sent, second.sent) == (4, 4)
    assert len(standin.token_requests) == requests
    assert standin.rejected == []  # no message was ever sent with a stale token


@pytest.mark.slow
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_revoked_token_is_renewed_once_and_sending_goes_on(
    tmp_path, standin, smtp, good_audit, transport
):
    """A token revoked in mid-life is refused once, renewed, and the messages still go."""
    settings = _settings(standin, smtp, transport)
    _enqueue(tmp_path, good_audit, settings, "job-1")
    assert _send(tmp_path, settings).sent == 4
    standin.revoke_all()
    _enqueue(tmp_path, good_audit, settings, "job-2")
    summary = _send(tmp_path, settings)
    assert (summary.sent, summary.pending) == (4, 0)
    assert len(standin.token_requests) == 2
    assert len(_delivered(standin, smtp, transport)) == 8
    if transport == "graph":
        assert standin.rejected == [(401, "InvalidAuthenticationToken")]
    else:
        assert len(smtp[1].attempts) == 3  # accepted, refused (revoked), accepted (renewed)


@pytest.mark.slow
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_token_refused_after_renewal_stops_sending_and_tells_once(
    tmp_path, standin, smtp, good_audit, transport, caplog
):
    """Refused twice: nothing is sent, the queue is kept, the problem is logged once and shown."""
    standin.refuse_every_token = True
    settings = _settings(standin, smtp, transport).with_changes(
        **{"service.state_dir": tmp_path / "state", "service.outbox": tmp_path / "outbox"}
    )
    ids = _enqueue(tmp_path, good_audit, settings)
    t0 = dt.datetime.now(dt.UTC)
    with caplog.at_level(logging.ERROR, logger="cssw_docs.deliver.alerts"):
        first = _send(tmp_path, settings, t0)
        second = _send(tmp_path, settings, t0 + dt.timedelta(hours=2))
    assert (first.sent, first.pending, second.sent, second.pending) == (0, 4, 0, 4)
    assert len(standin.token_requests) == 3  # a token and one renewal, then one more renewal
    assert _delivered(standin, smtp, transport) == []
    told = [r for r in caplog.records if r.name == "cssw_docs.deliver.alerts"]
    assert len(told) == 1 and "Sending email has stopped" in told[0].getMessage()
    config_file = tmp_path / "cssw-docs.toml"
    config_file.write_text(tomli_w.dumps(_toml(tmp_path, settings)), "utf-8")
    status = CliRunner().invoke(cli, ["--config", str(config_file), "mail", "status"])
    assert "Sending has STOPPED since" in status.output
    assert "5.7.3" in status.output or "InvalidAuthenticationToken" in status.output

    standin.refuse_every_token = False  # the administrator fixed the permission
    fixed = _send(tmp_path, settings, t0 + dt.timedelta(hours=4))
    assert (fixed.sent, fixed.pending) == (4, 0)
    assert sorted(_message_id(d) for d in _delivered(standin, smtp, transport)) == sorted(ids)
    assert alerts.read(tmp_path / "state" / "ledger.sqlite3") is None
    status = CliRunner().invoke(cli, ["--config", str(config_file), "mail", "status"])
    assert "STOPPED" not in status.output


# --- Throttling ----------------------------------------------------------------------------------


def test_graph_throttling_waits_as_long_as_retry_after_asks(tmp_path, standin, smtp, good_audit):
    """A 429 stops the run; every message waits the Retry-After (longer than the backoff)."""
    standin.throttle = [600]
    settings = _settings(standin, smtp, "graph")
    _enqueue(tmp_path, good_audit, settings)
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0)
    throttled = _send(tmp_path, settings, t0)
    assert (throttled.sent, throttled.retrying) == (0, 4)
    assert "asked us to wait 600 seconds" in throttled.last_error
    assert standin.rejected == [(429, "ApplicationThrottled")]  # one request, not four
    assert {r["next_attempt_at"] for r in _rows(tmp_path).values()} == {
        mail_table.stamp(t0 + dt.timedelta(seconds=600))
    }
    assert _send(tmp_path, settings, t0 + dt.timedelta(seconds=300)).sent == 0
    assert _send(tmp_path, settings, t0 + dt.timedelta(seconds=601)).sent == 4


@pytest.mark.slow
def test_smtp_throttling_4xx_waits_and_retries(tmp_path, standin, smtp, good_audit):
    """Exchange's 451 4.7.500 (busy) leaves the message waiting; it goes on the next try."""
    smtp[1].busy = 1
    settings = _settings(standin, smtp, "smtp-oauth")
    _enqueue(tmp_path, good_audit, settings)
    t0 = dt.datetime.now(dt.UTC)
    busy = _send(tmp_path, settings, t0)
    assert (busy.sent, busy.retrying, busy.failed) == (3, 1, 0)
    assert "451 4.7.500" in busy.last_error and "tried again" in busy.last_error
    later = _send(tmp_path, settings, t0 + dt.timedelta(hours=1))
    assert (later.sent, later.pending) == (1, 0)
    assert alerts.read(tmp_path / "state" / "ledger.sqlite3") is None  # not a sign-in problem


def test_graph_unreachable_keeps_every_message_waiting(tmp_path, standin, smtp, good_audit):
    """Graph down: every message waits for the next try, and nothing is noted as a stop."""
    settings = _settings(standin, smtp, "graph", graph_url=f"https://127.0.0.1:{free_port()}")
    _enqueue(tmp_path, good_audit, settings)
    summary = _send(tmp_path, settings)
    assert (summary.sent, summary.retrying, summary.pending) == (0, 4, 4)
    assert "Could not reach Microsoft Graph" in summary.last_error
    assert alerts.read(tmp_path / "state" / "ledger.sqlite3") is None


def test_graph_retry_after_as_a_date():
    """Retry-After may be an HTTP date; a missing or odd one means a minute."""
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    assert graph.retry_after("Tue, 01 Dec 2026 09:02:00 GMT", now) == 120
    assert graph.retry_after("45", now) == 45
    assert graph.retry_after(None, now) == graph.retry_after("soon", now) == 60


# --- Size: Graph's per-request limit -------------------------------------------------------------


def _final_attachments(sub, pack, settings):
    (final,) = [d for d in routes.pack_routes(sub, pack, settings.mail) if d.route is Route.FINAL]
    return final.attachments


def _pad_report(pack, size: int) -> None:
    """Replace the pack's report with ``size`` incompressible bytes."""
    (report,) = [f for f in pack.files if f.kind is DocKind.REPORT]
    (pack.directory / report.name).write_bytes(os.urandom(size))


def test_graph_pack_over_the_limit_points_to_the_folder(tmp_path, standin, smtp, good_audit):
    """Over Graph's limit, the pack is not attached: the email says where the files are."""
    settings = _settings(standin, smtp, "graph")
    pack = make_pack(tmp_path / "outbox")
    _pad_report(pack, int(2.5 * 1024 * 1024))
    ids = _enqueue(tmp_path, good_audit, settings, pack=pack)
    assert _send(tmp_path, settings).sent == 4
    final = next(p for p in standin.posts if p.message_id == ids[0])
    message = BytesParser(policy=policy.default).parsebytes(final.mime)
    assert list(message.iter_attachments()) == []
    text = " ".join(message.get_body(("plain",)).get_content().split())
    assert "too large to email together" in text and "the limit is 2 MB" in text
    assert str(pack.directory) in text


@pytest.mark.slow
def test_attachments_just_under_the_limit_fit_one_graph_request(
    tmp_path, standin, smtp, good_audit
):
    """Attachments just under 2 MB go attached, and the request stays under Graph's 4 MB."""
    settings = _settings(standin, smtp, "graph")
    pack = make_pack(tmp_path / "outbox")
    others = sum(
        a.path.stat().st_size
        for a in _final_attachments(good_audit, pack, settings)
        if a.kind is not DocKind.REPORT
    )
    _pad_report(pack, int(graph.ATTACHMENT_LIMIT_MB * 1024 * 1024) - others - 1024)
    ids = _enqueue(tmp_path, good_audit, settings, pack=pack)
    assert _send(tmp_path, settings).sent == 4
    final = next(p for p in standin.posts if p.message_id == ids[0])
    assert graph.GRAPH_REQUEST_LIMIT * 0.85 < len(final.body) <= graph.GRAPH_REQUEST_LIMIT
    names = [p.get_filename() for p in BytesParser(policy=policy.default)
             .parsebytes(final.mime).iter_attachments()]  # fmt: skip
    assert "CSSW-2026-0142 Audit report.docx" in names


@pytest.mark.slow
def test_message_queued_too_big_for_graph_fails_for_good(tmp_path, standin, smtp, good_audit):
    """Queued with attachments under SMTP's limit, then sent by Graph: refused, not posted."""
    pack = make_pack(tmp_path / "outbox")
    _pad_report(pack, int(3.5 * 1024 * 1024))
    ids = _enqueue(tmp_path, good_audit, _settings(standin, smtp, "smtp-oauth"), pack=pack)
    summary = _send(tmp_path, _settings(standin, smtp, "graph"))
    assert (summary.sent, summary.failed) == (
        4,
        1,
    )  # two that fit, the SMT notice, the admin notice
    assert _rows(tmp_path)[ids[0]]["state"] == "failed"
    assert "over the 4 MB Graph accepts" in _rows(tmp_path)[ids[0]]["last_error"]
    assert ids[0] not in [p.message_id for p in standin.posts]


# --- Exactly once: a crash between the token and the send ----------------------------------------


CRASH_AFTER_TOKEN = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from cssw_docs.config import Settings
    from cssw_docs.deliver import oauth, outbox

    real_token = oauth.TokenSource.token

    def token_then_crash(self):  # the token is in hand; nothing has been sent yet
        real_token(self)
        os.kill(os.getpid(), signal.SIGKILL)

    oauth.TokenSource.token = token_then_crash
    settings = Settings().with_changes(**json.loads(sys.argv[3]))
    outbox.send_pending(Path(sys.argv[1]), settings, outbox=Path(sys.argv[2]))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_crash_between_token_and_send_sends_each_message_once(
    tmp_path, standin, smtp, good_audit, transport
):
    """Killed with a token in hand: after the claim lapses, each message goes exactly once."""
    port = smtp[0].port if transport == "smtp-oauth" else 0
    changes = {f"mail.{k}": v for k, v in m365_mail(standin, transport, port).items()}
    changes["mail.allowed_domains"] = ["camden.gov.uk"]
    settings = _settings(standin, smtp, transport)
    ids = _enqueue(tmp_path, good_audit, settings)
    db, outbox = tmp_path / "state" / "ledger.sqlite3", tmp_path / "outbox"
    done = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_TOKEN, str(db), str(outbox), json.dumps(changes)],
        capture_output=True,
        timeout=120,
        env={**os.environ, **ENV},
    )
    assert done.returncode == -9, done.stderr
    assert len(standin.token_requests) == 1
    assert _delivered(standin, smtp, transport) == []
    assert sorted(r["state"] for r in _rows(tmp_path).values()) == [
        "pending",
        "pending",
        "pending",
        "sending",
    ]
    after = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)  # the claim has lapsed
    summary = _send(tmp_path, settings, after)
    again = _send(tmp_path, settings, after + dt.timedelta(hours=2))
    assert (summary.sent, again.sent) == (4, 0)
    copies = collections.Counter(_message_id(d) for d in _delivered(standin, smtp, transport))
    assert sorted(copies) == sorted(ids) and set(copies.values()) == {1}


# --- `cssw-docs mail test` -----------------------------------------------------------------------


def _toml(tmp_path, settings) -> dict:
    mail = {k: v for k, v in config.as_dict(settings)["mail"].items() if v is not None}
    return {
        "service": {"state_dir": str(tmp_path / "state"), "outbox": str(tmp_path / "outbox")},
        "mail": mail,
    }


def _mail_test(tmp_path, settings, to: str = "qa.admin@camden.gov.uk"):
    config_file = tmp_path / "cssw-docs.toml"
    config_file.write_text(tomli_w.dumps(_toml(tmp_path, settings)), "utf-8")
    return CliRunner().invoke(cli, ["--config", str(config_file), "mail", "test", "--to", to])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_mail_test_sends_one_harmless_message(tmp_path, standin, smtp, transport, monkeypatch):
    """The test message goes through the transport, says so, and carries no audit."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    result = _mail_test(tmp_path, _settings(standin, smtp, transport))
    assert result.exit_code == 0, result.output
    assert "Sent a test message to qa.admin@camden.gov.uk" in result.output
    (data,) = _delivered(standin, smtp, transport)
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert message["Subject"] == probe.SUBJECT and list(message.iter_attachments()) == []
    assert "nothing about any child" in message.get_body(("plain",)).get_content()


def test_mail_test_obeys_the_allowlist(tmp_path, standin, smtp, monkeypatch):
    """An address outside mail.allowed_domains gets nothing, and Entra ID is not even asked."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    settings = _settings(standin, smtp, "graph", allowed_domains=["camden.gov.uk"])
    result = _mail_test(tmp_path, settings, to="someone@gmail.com")
    assert result.exit_code == 1
    assert "outside mail.allowed_domains" in result.output
    assert standin.token_requests == [] and standin.posts == []


SMTP_AUTH_DISABLED = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
    "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
)


def _entra(code):
    def arrange(standin, handler):
        standin.entra_error = code
        return {}

    return arrange


def _smtp_reply(reply):
    def arrange(standin, handler):
        handler.refuse_with = reply
        return {}

    return arrange


MAIL_TEST_FAILURES = [
    ("graph", _entra("AADSTS7000215"), "[AADSTS7000215]", "client secret is wrong"),
    ("smtp-oauth", _entra("AADSTS700016"), "[AADSTS700016]", "no application with this client"),
    ("graph", _entra("AADSTS65001"), "[AADSTS65001]", "Admin consent has not been granted"),
    ("graph", lambda s, h: {"tenant_id": "wrong-tenant"}, "[AADSTS90002]", "wrong tenant"),
    ("smtp-oauth", _smtp_reply(SMTP_AUTH_DISABLED), "[535 5.7.139]", "SMTP AUTH is disabled"),
    (
        "smtp-oauth",
        _smtp_reply("535 5.7.3 Authentication unsuccessful [LO4P123CA0001.GBRP123.PROD]"),
        "[535 5.7.3]",
        "New-ServicePrincipal",
    ),
    (
        "graph",
        lambda s, h: {"mailbox": "other.mailbox@camden.gov.uk"},
        "[ErrorAccessDenied]",
        "mailbox not permitted",
    ),
]


@pytest.mark.parametrize(
    ("transport", "arrange", "code", "words"),
    MAIL_TEST_FAILURES,
    ids=[case[2].strip("[]") for case in MAIL_TEST_FAILURES],
)
def test_mail_test_explains_each_common_error(
    tmp_path, standin, smtp, monkeypatch, transport, arrange, code, words
):
    """Each common Entra, Exchange and Graph error is named and explained in plain words."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    changes = arrange(standin, smtp[1])
    result = _mail_test(tmp_path, _settings(standin, smtp, transport, **changes))
    assert result.exit_code == 1
    assert "The test message was NOT sent" in result.output
    assert code in result.output
    assert words in result.output
    assert "Nothing is sent until this is fixed" in result.output
    assert "Traceback" not in result.output
    assert _delivered(standin, smtp, transport) == []


def test_smtp_auth_disabled_is_not_retried_with_a_new_token(tmp_path, standin, smtp):
    """5.7.139 (SMTP AUTH off) cannot be cured by a new token, so none is asked for."""
    smtp[1].refuse_with = SMTP_AUTH_DISABLED
    settings = _settings(standin, smtp, "smtp-oauth")
    result = probe.send_test(
        settings, "qa.admin@camden.gov.uk", db=tmp_path / "l.sqlite3", outbox=tmp_path, environ=ENV
    )
    assert not result.sent
    assert len(standin.token_requests) == 1 and len(smtp[1].attempts) == 1


def test_mail_test_without_a_host_writes_an_eml_file(tmp_path, monkeypatch):
    """With plain SMTP and no host (the demo), the test message is written, and says so."""
    settings = mail_settings()
    result = _mail_test(tmp_path, settings)
    assert result.exit_code == 0
    assert "nothing was emailed" in result.output
    assert list((tmp_path / "outbox" / "mail").rglob("*.eml"))


# --- Settings ------------------------------------------------------------------------------------


def test_client_secret_variable_must_be_ours():
    """client_secret_env must name a CSSW_DOCS_ variable, so no other secret can leak."""
    with pytest.raises(config.ConfigError, match="must name a variable starting with CSSW_DOCS_"):
        config.Settings().with_changes(**{"mail.client_secret_env": "AWS_SECRET_ACCESS_KEY"})


def test_client_secret_in_the_file_is_refused(tmp_path):
    """A client secret written in the config file is refused, saying where it belongs."""
    path = tmp_path / "cssw-docs.toml"
    path.write_text('[mail]\ntransport = "graph"\nclient_secret = "abc"\n', "utf-8")
    with pytest.raises(config.ConfigError, match="CSSW_DOCS_M365_CLIENT_SECRET"):
        config.load(path, environ={})


def test_unknown_transport_is_refused():
    """A misspelt transport is refused with the choices."""
    with pytest.raises(config.ConfigError, match="smtp, smtp-oauth, graph"):
        config.Settings().with_changes(**{"mail.transport": "exchange"})


def test_config_show_names_the_secret_variable_without_the_secret():
    """`config show` prints the variable's name and whether it is set, never the secret."""
    text = config.to_toml(config.Settings(), environ=ENV)
    assert 'client_secret_env = "CSSW_DOCS_M365_CLIENT_SECRET"' in text
    assert "# client secret: ******** (set; read only from $CSSW_DOCS_M365_CLIENT_SECRET)" in text
    assert SECRET not in text
