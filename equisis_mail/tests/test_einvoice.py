# Copyright 2026 equisis_mail contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invoices carry what the host's Print & Send would carry for the customer.

Each case sends one invoice through this addon and its twin through the
host's own Print & Send, both with real PDFs, and compares the files. The
host embeds Factur-X only outside its test mode (in test mode it makes an
attachment instead): these tests switch that flag off around both sends.
"""

import io
import re
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged
from odoo.tools import config
from odoo.tools.pdf import OdooPdfFileReader

from .common import EquisisSendCase


def embedded_files(pdf):
    return {
        name: content
        for name, content in OdooPdfFileReader(
            io.BytesIO(pdf), strict=False
        ).getAttachments()
    }


def comparable_xml(content):
    """E-invoice XML without what differs between twins: their numbers,
    dates of issue and the PDF embedded in UBL."""
    text = content.decode()
    text = re.sub(r"INV/\d+/\d+", "INV", text)
    text = re.sub(r"<cbc:EmbeddedDocumentBinaryObject[^>]*>[^<]*<", "<EMBEDDED<", text)
    text = re.sub(r"(<[^>]*(?:ID|Reference|Note)[^>]*>)[^<]*INV[^<]*<", r"\1<", text)
    text = re.sub(r"\s+", " ", text)
    return text


@tagged("post_install", "-at_install")
class TestEInvoices(EquisisSendCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        belgium = cls.env.ref("base.be")
        cls.env.company.write(
            {
                "country_id": belgium.id,
                "vat": "BE0477472701",
                "street": "Rue de la Loi 16",
                "city": "Bruxelles",
                "zip": "1000",
                "account_fiscal_country_id": belgium.id,
            }
        )
        group = cls.env["account.tax.group"].create(
            {"name": "VAT 21%", "country_id": belgium.id}
        )
        cls.tax = cls.env["account.tax"].create(
            {
                "name": "VAT 21%",
                "tax_group_id": group.id,
                "amount": 21,
                "type_tax_use": "sale",
                "country_id": belgium.id,
            }
        )
        cls.plain = cls.make_partner("Plain Customer", "plain@example.com")
        cls.belgian = cls.env["res.partner"].create(
            {
                "name": "Atelier Belge",
                "email": "compta@atelier.example",
                "lang": "fr_BE",
                "is_company": True,
                "country_id": belgium.id,
                "vat": "BE0202239951",
                "street": "Rue Neuve 1",
                "city": "Bruxelles",
                "zip": "1000",
                "invoice_edi_format": "ubl_bis3",
            }
        )

    def make_taxed_invoice(self, partner):
        move = self.make_invoice(partner, post=False)
        move.invoice_line_ids.tax_ids = [Command.set(self.tax.ids)]
        move.action_post()
        return move

    def outside_test_mode(self):
        return patch.dict(config.options, {"test_enable": False})

    def send_with_host(self, move):
        """The host's own Print & Send; returns the files its mail carries."""
        with self.outside_test_mode():
            self.env["account.move.send"].with_context(
                force_report_rendering=True
            )._generate_and_send_invoices(move, sending_methods={"email"})
        message = move.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        return {a.name: a.raw for a in message.attachment_ids}

    def send_with_addon(self, move):
        with self.outside_test_mode():
            self.send(self.open_wizard(move))
        received = [
            mail for mail in self.smtp.received if move.name in mail.message["Subject"]
        ]
        self.assertEqual(len(received), 1)
        return dict(received[0].attachments())

    def assertSameDocuments(self, ours, host, move, twin):
        def by_kind(files):
            pdfs = [content for name, content in files.items() if name.endswith(".pdf")]
            xmls = [content for name, content in files.items() if name.endswith(".xml")]
            return pdfs, xmls

        our_pdfs, our_xmls = by_kind(ours)
        host_pdfs, host_xmls = by_kind(host)
        self.assertEqual(len(our_pdfs), 1)
        self.assertEqual(len(host_pdfs), 1)
        self.assertEqual(len(our_xmls), len(host_xmls))
        our_embedded = embedded_files(our_pdfs[0])
        host_embedded = embedded_files(host_pdfs[0])
        self.assertIn("factur-x.xml", our_embedded)
        self.assertEqual(sorted(our_embedded), sorted(host_embedded))
        for name, content in our_embedded.items():
            self.assertEqual(
                comparable_xml(content), comparable_xml(host_embedded[name]), name
            )
        for ours_xml, host_xml in zip(our_xmls, host_xmls, strict=True):
            self.assertEqual(comparable_xml(ours_xml), comparable_xml(host_xml))
        # The legal PDF stored on the invoice is the one the mail carried.
        self.assertEqual(move.invoice_pdf_report_id.raw, our_pdfs[0])
        self.assertTrue(twin.invoice_pdf_report_id)

    def test_plain_customer_gets_factur_x_like_the_host(self):
        move = self.make_taxed_invoice(self.plain)
        twin = self.make_taxed_invoice(self.plain)
        ours = self.send_with_addon(move)
        host = self.send_with_host(twin)
        self.assertSameDocuments(ours, host, move, twin)
        self.assertTrue(move.is_move_sent)

    def test_belgian_customer_gets_ubl_like_the_host(self):
        move = self.make_taxed_invoice(self.belgian)
        twin = self.make_taxed_invoice(self.belgian)
        ours = self.send_with_addon(move)
        host = self.send_with_host(twin)
        self.assertTrue(any(name.endswith(".xml") for name in host), host.keys())
        self.assertSameDocuments(ours, host, move, twin)
        self.assertTrue(move.ubl_cii_xml_id)

    def test_host_print_and_send_after_the_addon_keeps_factur_x(self):
        move = self.make_taxed_invoice(self.plain)
        self.send_with_addon(move)
        host = self.send_with_host(move)
        pdfs = [content for name, content in host.items() if name.endswith(".pdf")]
        self.assertIn("factur-x.xml", embedded_files(pdfs[0]))

    def test_edi_error_turns_the_line_red_and_sends_nothing(self):
        # Peppol BIS 3 wants a tax on every line; this line has none.
        move = self.make_invoice(self.belgian)
        wizard = self.open_wizard(move)
        with self.outside_test_mode():
            self.send(wizard)
        self.assertFalse(self.smtp.received)
        self.assertFalse(move.is_move_sent)
        self.assertFalse(move.invoice_pdf_report_id)
        self.assertIn("EDI document", wizard.line_ids.problem)
        self.assertIn("at least one tax", wizard.line_ids.problem)
        # The customer no longer asks for Peppol: Send again checks anew.
        self.belgian.invoice_edi_format = False
        with self.outside_test_mode():
            self.send(wizard)
        self.assertEqual(len(self.smtp.received), 1)
        self.assertTrue(move.is_move_sent)

    def test_preferred_sending_method_is_noted_on_the_line(self):
        self.plain.invoice_sending_method = "manual"
        other = self.make_partner("Mailed", "mailed@example.com")
        wizard = self.open_wizard(self.make_invoice(other))
        self.assertFalse(wizard.line_ids.sending_note)
        self.assertFalse(wizard.has_sending_note, "no empty column")
        line = self.open_wizard(self.make_invoice(self.plain)).line_ids
        self.assertIn("prefers", line.sending_note)
        self.assertTrue(line.wizard_id.has_sending_note)
        self.assertFalse(line.problem)

    def test_other_print_form_is_not_proposed_again_as_an_annex(self):
        move = self.make_invoice(self.plain)
        other = self.env["equisis.letter"].search(
            [
                ("letter_type", "=", "print_form"),
                ("target", "=", "out_invoice"),
                ("report_id", "!=", self.env.ref("account.account_invoices").id),
            ],
            limit=1,
        )
        self.assertTrue(other)
        wizard = self.open_wizard(move)
        wizard.print_form_id = other
        with self.outside_test_mode():
            self.send(wizard)
        files = dict(self.smtp.received[0].attachments())
        self.assertEqual(len([n for n in files if n.endswith(".pdf")]), 1)
        self.assertNotEqual(
            files.get(move.invoice_pdf_report_id.name), move.invoice_pdf_report_id.raw
        )
        self.company_sends_annexes()
        again = self.open_wizard(move)
        self.assertFalse(again.line_ids.attachment_ids)
        self.assertFalse(again.line_ids.available_annex_ids)

    def company_sends_annexes(self):
        self.env.company.send_annexes_by_mail = True
