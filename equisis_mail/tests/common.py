# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A real SMTP server on loopback for the Odoo tests.

``SmtpFixture`` runs aiosmtpd on a free 127.0.0.1 port and records, for each
message it accepts, the envelope (MAIL FROM, every RCPT TO), the raw bytes and
the AUTH login. It can require AUTH with given credentials and answer with a
chosen error code for fault tests.

Odoo never delivers while tests run (``ir.mail_server._disable_send``).
``real_delivery()`` is the one narrow, documented way to let delivery happen
inside a test: it switches that guard off for the ``with`` block only.
"""

import asyncio
import contextlib
import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from unittest.mock import patch

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from odoo.tests import common, tagged  # noqa: F401


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list
    raw: bytes
    login: str | None

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def attachments(self):
        return [
            (part.get_filename(), part.get_payload(decode=True))
            for part in self.message.iter_attachments()
        ]

    def recipient_headers(self):
        """To, Cc and Bcc as the recipients receive them."""
        message = self.message
        return " ".join(str(message[name] or "") for name in ("To", "Cc", "Bcc"))

    def header_text(self):
        """Every header line as the recipients receive it."""
        return self.raw.split(b"\r\n\r\n", 1)[0].decode(errors="replace")


@dataclass
class _State:
    received: list = field(default_factory=list)
    credentials: tuple | None = None
    fail_rcpt: dict = field(default_factory=dict)
    fail_data_after: int | None = None
    fail_data_code: str = "421 4.3.0 Service shutting down"
    drop_after_data: int | None = None
    connections: int = 0
    data_delay: float = 0


class _Handler:
    def __init__(self, state):
        self.state = state

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.state.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.state.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.state.fail_rcpt.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.state.data_delay:
            await asyncio.sleep(self.state.data_delay)
        limit = self.state.fail_data_after
        if limit is not None and len(self.state.received) >= limit:
            return self.state.fail_data_code
        login = session.auth_data.login.decode() if session.auth_data else None
        self.state.received.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=envelope.original_content or envelope.content,
                login=login,
            )
        )
        drop = self.state.drop_after_data
        if drop is not None and len(self.state.received) > drop:
            # Kept, and the connection lost before the answer.
            server.transport.abort()
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, state):
        self.state = state

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or not self.state.credentials:
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        password = auth_data.password.decode()
        if (login, password) == self.state.credentials:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(
            success=False,
            handled=False,
            message="535 5.7.8 Authentication credentials invalid",
        )


class SmtpFixture:
    """A recording SMTP server on a free loopback port."""

    def __init__(self, credentials=None, tls_context=None):
        self.credentials = credentials
        self.state = _State(credentials=credentials)
        self.port = _free_port()
        self.controller = Controller(
            _Handler(self.state),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_Authenticator(self.state),
            auth_required=False,
            auth_require_tls=False,
            decode_data=False,
            data_size_limit=80 * 1024 * 1024,
            tls_context=tls_context,
            require_starttls=bool(tls_context),
        )

    host = "127.0.0.1"

    @property
    def received(self):
        return self.state.received

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def reset(self):
        self.state.received.clear()
        self.state.fail_rcpt.clear()
        self.state.fail_data_after = None
        self.state.drop_after_data = None
        self.state.connections = 0
        self.state.data_delay = 0
        self.state.credentials = self.credentials

    def require_auth(self, login, password):
        self.state.credentials = (login, password)

    def refuse_recipient(self, address, answer="550 5.1.1 Mailbox unavailable"):
        self.state.fail_rcpt[address.lower()] = answer

    def fail_data_after(self, count, answer="421 4.3.0 Service shutting down"):
        self.state.fail_data_after = count
        self.state.fail_data_code = answer

    def drop_after_data(self, count):
        """After ``count`` mails, keep the next one and lose the connection
        before answering, as a server that crashes or a network that fails
        right after the message."""
        self.state.drop_after_data = count


def self_signed_tls_context(directory):
    """A server TLS context with a throwaway self-signed certificate for
    127.0.0.1: encryption works, validation must refuse it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "equisis-test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = Path(directory) / "cert.pem"
    key_path = Path(directory) / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def cron_progress_without_commit(env):
    """Run a cron method inside a test transaction.

    ``ir.cron._commit_progress`` commits, which a test cannot allow; here it
    only reports unlimited time left, as it does outside a cron run.
    """
    cron_class = env.registry["ir.cron"]
    with patch.object(
        cron_class, "_commit_progress", lambda self, processed=0, **kw: float("inf")
    ):
        yield


@contextlib.contextmanager
def real_delivery(env):
    """Let ``ir.mail_server`` really talk SMTP inside this block.

    Odoo's test mode turns delivery into a no-op; only the fixture on
    loopback can be reached here, so nothing leaves the machine.
    """
    server_class = env.registry["ir.mail_server"]
    with patch.object(server_class, "_disable_send", classmethod(lambda cls: False)):
        yield


@contextlib.contextmanager
def user_smtp_on_loopback(case, user):
    """For a tour: the user's own server is a fixture on loopback, and mails
    really leave to it, so the window shows the server's real answers."""
    smtp = SmtpFixture().start()
    case.addCleanup(smtp.stop)
    user.write(
        {
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_encryption": "none",
        }
    )
    with real_delivery(case.env):
        yield smtp


class EquisisMailCase(common.TransactionCase):
    """Sets up a running SMTP fixture for the class and a helper to send."""

    smtp_credentials = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.smtp = SmtpFixture(credentials=cls.smtp_credentials).start()
        cls.addClassCleanup(cls.smtp.stop)
        # The company's usual server points at a second fixture, so that a mail
        # that should leave through a personal server but did not is seen.
        cls.default_smtp = SmtpFixture().start()
        cls.addClassCleanup(cls.default_smtp.stop)
        # wkhtmltopdf fetches the report's assets from report.url. The test
        # server shares this database and would wait on the test transaction's
        # locks, so point it where nothing answers: PDFs come out unstyled, fast.
        cls.env["ir.config_parameter"].set_param("report.url", "http://127.0.0.1:9")
        cls.env["ir.mail_server"].search([]).active = False
        cls.default_server = cls.env["ir.mail_server"].create(
            {
                "name": "Company server (test)",
                "smtp_host": "127.0.0.1",
                "smtp_port": cls.default_smtp.port,
                "smtp_encryption": "none",
                "sequence": 1,
            }
        )

    def setUp(self):
        super().setUp()
        self.smtp.reset()
        self.default_smtp.reset()

    def mails_of(self, documents):
        """The mails of this addon for these documents, oldest first."""
        return (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("equisis_model", "=", documents._name),
                    ("equisis_res_id", "in", documents.ids),
                ],
                order="id",
            )
        )

    def flush_mail_queue(self, mails=None):
        """Send queued mails for real, as the host's queue would."""
        mails = mails or self.env["mail.mail"].search([("state", "=", "outgoing")])
        with real_delivery(self.env):
            mails.send()
        return mails


class EquisisSendCase(EquisisMailCase):
    """Adds a sender with a personal server on the fixture, and invoices."""

    smtp_credentials = ("sender-login", "sender-secret")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.email = "company@example.com"
        cls.sender = cls.env["res.users"].create(
            {
                "name": "Sophie Sender",
                "login": "sophie",
                "email": "sophie@example.com",
                "signature": "<p>Sophie Sender, Accounting</p>",
                "group_ids": [
                    (4, cls.env.ref("account.group_account_invoice").id),
                    (4, cls.env.ref("base.group_user").id),
                ],
            }
        )
        cls.sender.write(
            {
                "smtp_host": cls.smtp.host,
                "smtp_port": cls.smtp.port,
                "smtp_encryption": "none",
                "smtp_user": "sender-login",
                "smtp_pass": "sender-secret",
            }
        )
        for code in ("fr_FR", "nl_NL", "fr_BE", "nl_BE"):
            cls.env["res.lang"]._activate_lang(code)
        cls.product = cls.env["product.product"].create(
            {"name": "Consulting", "list_price": 100.0}
        )

    @classmethod
    def make_partner(cls, name, email, lang="en_US"):
        return cls.env["res.partner"].create(
            {"name": name, "email": email, "lang": lang}
        )

    @classmethod
    def make_invoice(cls, partner, amount=1234.56, move_type="out_invoice", post=True):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": "2026-11-02",
                "invoice_date_due": "2026-12-02",
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Consulting",
                            "product_id": cls.product.id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [(6, 0, [])],
                        },
                    )
                ],
            }
        )
        if post:
            move.action_post()
        return move

    def queued(self, moves):
        """The documents among these waiting in the background queue."""
        entries = (
            self.env["equisis.mail.queue"]
            .sudo()
            .search([("res_model", "=", moves._name), ("res_id", "in", moves.ids)])
        )
        return moves.browse(entries.mapped("res_id"))

    def open_wizard(self, moves, user=None):
        """Run the contract's server action, as the user would from the list."""
        user = user or self.sender
        action = self.env.ref("equisis_mail.account_move_action_send_email")
        result = (
            action.with_user(user)
            .with_context(lang=user.lang)
            .with_context(active_model="account.move", active_ids=moves.ids)
            .run()
        )
        self.assertEqual(result["res_model"], "equisis.mail.send")
        return self.env["equisis.mail.send"].with_user(user).browse(result["res_id"])

    def send(self, wizard):
        """Validate the window and let the mails really leave."""
        with real_delivery(self.env):
            return wizard.with_context(force_report_rendering=True).action_send()
