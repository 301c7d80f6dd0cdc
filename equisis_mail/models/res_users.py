# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

SMTP_FIELDS = (
    "smtp_host",
    "smtp_port",
    "smtp_encryption",
    "smtp_check_certificate",
    "smtp_user",
    "smtp_pass",
)
# What changes the host server's encryption mode; nothing else may.
MODE_FIELDS = ("smtp_encryption", "smtp_check_certificate")
HOST_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


class ResUsers(models.Model):
    """The SMTP profile of a user is a view on the host's personal mail server.

    The fields are computed from the ``ir.mail_server`` owned by the user and
    written back to it, so that the password lives in one place only and the
    host's own throttling, server choice and garbage collection keep working.
    """

    _inherit = "res.users"

    smtp_host = fields.Char(
        string="SMTP Server",
        compute="_compute_smtp_profile",
        readonly=False,
        groups="base.group_system",
        help="Host name of this user's own outgoing mail server. "
        "Leave empty to send through the company's usual server.",
    )
    smtp_port = fields.Integer(
        string="SMTP Port",
        compute="_compute_smtp_profile",
        readonly=False,
        groups="base.group_system",
        help="Usually 587 with STARTTLS, 465 with SSL/TLS.",
    )
    smtp_encryption = fields.Selection(
        selection=[
            ("none", "None"),
            ("starttls", "TLS (STARTTLS)"),
            ("ssl", "SSL/TLS"),
        ],
        string="Connection Encryption",
        compute="_compute_smtp_profile",
        readonly=False,
        groups="base.group_system",
    )
    smtp_check_certificate = fields.Boolean(
        string="Check the Server's Certificate",
        compute="_compute_smtp_profile",
        readonly=False,
        groups="base.group_system",
        help="Encrypted connections check the server's certificate and host "
        "name. Turn this off only for a server with a self-signed certificate: "
        "anyone on the network path could then read the password.",
    )
    smtp_user = fields.Char(
        string="SMTP Login",
        compute="_compute_smtp_profile",
        readonly=False,
        groups="base.group_system",
    )
    smtp_pass = fields.Char(
        string="SMTP Password",
        compute="_compute_smtp_profile",
        readonly=False,
        groups="base.group_system",
        copy=False,
    )
    bcc_confirmation = fields.Boolean(
        string="BCC Confirmation",
        help="Receive a blind copy of every e-mail sent with Equisis Mail. "
        "The copy goes to your address in the SMTP envelope only: "
        "the other recipients never see it.",
    )
    equisis_smtp_summary = fields.Char(
        string="Own SMTP Server",
        compute="_compute_equisis_smtp_summary",
        help="The outgoing server your e-mails leave through, "
        "as set by an administrator.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + [
            "bcc_confirmation",
            "equisis_smtp_summary",
        ]

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + ["bcc_confirmation"]

    @api.depends("email")
    def _compute_outgoing_mail_server_id(self):
        """The host only recognises a personal server whose login is the user's
        address; ours may log in with another name, so look it up by owner."""
        res = super()._compute_outgoing_mail_server_id()
        missing = self.filtered(
            lambda u: not u.outgoing_mail_server_id and u._origin.id
        )
        if missing:
            servers = (
                self.env["ir.mail_server"]
                .sudo()
                .search([("owner_user_id", "in", missing._origin.ids)])
            )
            by_owner = {server.owner_user_id.id: server for server in servers}
            for user in missing:
                server = by_owner.get(user._origin.id)
                if server and server.from_filter == user.email_normalized:
                    user.outgoing_mail_server_id = server
        return res

    def _equisis_personal_server(self):
        """Return the personal server owned by each user, as superuser."""
        servers = (
            self.env["ir.mail_server"]
            .sudo()
            .with_context(active_test=False)
            .search([("owner_user_id", "in", self._origin.ids)])
        )
        return {server.owner_user_id.id: server for server in servers}

    def _compute_smtp_profile(self):
        servers = self._equisis_personal_server()
        for user in self:
            server = servers.get(user._origin.id)
            if server:
                user.smtp_host = server.smtp_host
                user.smtp_port = server.smtp_port
                user.smtp_encryption = (server.smtp_encryption or "none").removesuffix(
                    "_strict"
                )
                user.smtp_check_certificate = server.smtp_encryption not in (
                    "starttls",
                    "ssl",
                )
                user.smtp_user = server.smtp_user
                user.smtp_pass = server.smtp_pass
            else:
                user.smtp_host = False
                user.smtp_port = 587
                user.smtp_encryption = "starttls"
                user.smtp_check_certificate = True
                user.smtp_user = False
                user.smtp_pass = False

    def _equisis_set_smtp_profile(self, profile):
        """Write SMTP values onto each user's personal server.

        Values not given keep what the server has, so that changing only the
        password (or only the port) keeps the rest. Clearing the host removes
        the server.
        """
        for fname in profile:
            self._check_field_access(self._fields[fname], "write")
        servers = self._equisis_personal_server()
        for user in self:
            server = servers.get(user.id)
            current = {
                "smtp_host": server.smtp_host if server else False,
                "smtp_port": server.smtp_port if server else 587,
                "smtp_encryption": (
                    (server.smtp_encryption or "none").removesuffix("_strict")
                    if server
                    else "starttls"
                ),
                "smtp_check_certificate": (
                    server.smtp_encryption not in ("starttls", "ssl")
                    if server
                    else True
                ),
                "smtp_user": server.smtp_user if server else False,
                "smtp_pass": server.smtp_pass if server else False,
            }
            values = {**current, **profile}
            if not values["smtp_host"]:
                if server:
                    # Clearing the host removes the server, login and all.
                    server.unlink()
                elif values["smtp_user"] or values["smtp_pass"]:
                    raise ValidationError(
                        self.env._(
                            "User %(user)s: an SMTP login needs an SMTP server.",
                            user=user.name,
                        )
                    )
                continue
            user._equisis_check_smtp_values(values)
            server_values = user._equisis_mail_server_values(values)
            if server and not any(fname in profile for fname in MODE_FIELDS):
                # Another field changed: the server keeps its mode, whatever
                # an administrator set on it.
                del server_values["smtp_encryption"]
            if server:
                server.write(server_values)
            else:
                self.env["ir.mail_server"].sudo().create(server_values)
        self.invalidate_recordset([*SMTP_FIELDS, "outgoing_mail_server_id"])

    @api.depends_context("uid")
    def _compute_equisis_smtp_summary(self):
        """Users see their own server; administrators see everyone's."""
        servers = self.sudo()._equisis_personal_server()
        is_admin = self.env.user.has_group("base.group_system")
        for user in self:
            server = (
                servers.get(user._origin.id)
                if is_admin or user._origin == self.env.user
                else False
            )
            user.equisis_smtp_summary = (
                f"{server.smtp_user or ''}@{server.smtp_host}:{server.smtp_port}"
                if server and server.smtp_user
                else server.smtp_host
                if server
                else False
            )

    def _equisis_check_smtp_values(self, values):
        """Refuse a profile that could never connect, before anything is saved."""
        self.ensure_one()
        host = (values["smtp_host"] or "").strip()
        port = values["smtp_port"]
        if "://" in host or not HOST_HOSTNAME_RE.match(host):
            raise ValidationError(
                self.env._(
                    "User %(user)s: the SMTP server must be a host name such as "
                    "smtp.example.com, without spaces or scheme (got %(host)s).",
                    user=self.name,
                    host=host,
                )
            )
        if not 1 <= port <= 65535:
            raise ValidationError(
                self.env._(
                    "User %(user)s: the SMTP port must be between 1 and 65535 "
                    "(got %(port)s).",
                    user=self.name,
                    port=port,
                )
            )
        if values["smtp_encryption"] == "ssl" and port == 25:
            raise ValidationError(
                self.env._(
                    "User %(user)s: SSL/TLS does not work on port 25; "
                    "use port 465 for SSL/TLS or choose STARTTLS.",
                    user=self.name,
                )
            )
        if not self.email_normalized:
            raise ValidationError(
                self.env._(
                    "User %(user)s has no valid e-mail address: set one before "
                    "giving them their own SMTP server.",
                    user=self.name,
                )
            )

    def _equisis_mail_server_values(self, values):
        self.ensure_one()
        encryption = values["smtp_encryption"] or "none"
        if encryption != "none" and values["smtp_check_certificate"]:
            encryption = f"{encryption}_strict"
        return {
            "name": self.env._("%(user)s's outgoing server", user=self.name),
            "smtp_host": values["smtp_host"].strip(),
            "smtp_port": values["smtp_port"],
            "smtp_encryption": encryption,
            "smtp_authentication": "login",
            "smtp_user": values["smtp_user"] or False,
            "smtp_pass": values["smtp_pass"] or False,
            "from_filter": self.email_normalized,
            "owner_user_id": self.id,
            "active": True,
        }

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        profiles = [
            {fname: vals.pop(fname) for fname in SMTP_FIELDS if fname in vals}
            for vals in vals_list
        ]
        users = super().create(vals_list)
        for user, profile in zip(users, profiles, strict=True):
            if profile:
                user._equisis_set_smtp_profile(profile)
        return users

    def write(self, vals):
        vals = dict(vals)
        profile = {fname: vals.pop(fname) for fname in SMTP_FIELDS if fname in vals}
        res = super().write(vals) if vals else True
        if profile:
            self._equisis_set_smtp_profile(profile)
        if "email" in vals:
            self._equisis_sync_server_address()
        return res

    def _equisis_sync_server_address(self):
        """Follow the user's address, whoever changes it: the host recognises
        a personal server by its address and deletes those it no longer
        recognises, so a user's own new address would cost them the server
        an administrator set. Sending from an address another user has stays
        refused (``_equisis_check_sender_address``)."""
        servers = self._equisis_personal_server()
        for user in self:
            server = servers.get(user.id)
            if not server:
                continue
            if not user.email_normalized:
                raise ValidationError(
                    self.env._(
                        "User %(user)s has an own SMTP server and needs a valid "
                        "e-mail address.",
                        user=user.name,
                    )
                )
            if server.from_filter != user.email_normalized:
                server.from_filter = user.email_normalized
        self.invalidate_recordset(["outgoing_mail_server_id"])

    @api.autovacuum
    def _gc_personal_mail_servers(self):
        """An address changed on the user's contact rather than on the user
        (a contact manager, an import) is followed here, before the host
        deletes the personal servers it no longer recognises. Only the
        servers of this addon (login and password) follow: the host's own
        (OAuth) are tied to the address they were authorised for."""
        servers = (
            self.env["ir.mail_server"]
            .sudo()
            .search(
                [
                    ("owner_user_id", "!=", False),
                    ("smtp_authentication", "=", "login"),
                ]
            )
        )
        for server in servers:
            address = server.owner_user_id.email_normalized
            if address and server.from_filter != address:
                server.from_filter = address
        self.env["res.users"].invalidate_model(["outgoing_mail_server_id"])
        return super()._gc_personal_mail_servers()

    def _equisis_check_sender_address(self):
        """Refuse to send from an address that another user has: nothing a
        user writes on their own record makes a mail leave as a colleague."""
        self.ensure_one()
        if not self.email_normalized:
            raise UserError(
                self.env._("You have no e-mail address: set one in your preferences.")
            )
        namesakes = self.sudo().search(
            [
                ("id", "!=", self.id),
                ("email_normalized", "=", self.email_normalized),
                ("share", "=", False),
            ]
        )
        if namesakes:
            raise UserError(
                self.env._(
                    "Your e-mail address %(address)s is also the address of "
                    "%(users)s: ask an administrator to correct it before sending.",
                    address=self.email_normalized,
                    users=", ".join(namesakes.mapped("name")),
                )
            )

    def action_equisis_test_smtp(self):
        """Run the host's connection test on the user's own server."""
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only administrators can test a user's SMTP server.")
            )
        server = self._equisis_personal_server().get(self.id)
        if not server:
            raise UserError(self.env._("This user has no own SMTP server yet."))
        return server.test_smtp_connection()
