"""A shipped order's Delivery Note to the best carrier: quotes from every enabled Carrier Account
(the GHN and GHTK stand-ins, which check requests as the carriers do), the choice and why on the
note, the booking with its tracking number and label, exactly once."""

from __future__ import annotations

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from oms_connector.erp import carriers, intake
from oms_connector.sandbox.ghn_server import FakeGHN
from oms_connector.sandbox.ghtk_server import FakeGHTK
from oms_connector.tests import fixtures as fx

CHANNEL = "OMS Carrier Web"
SAIGON = {
	"full_name": "Nguyễn Văn A",
	"phone": "0987654321",
	"line1": "123 Nguyễn Chí Thanh",
	"ward": "Phường Bến Nghé",
	"district": "Quận 1",
	"province": "TP. Hồ Chí Minh",
}


def carrier_account(name: str, carrier: str, fake, **values) -> str:
	doc = frappe.get_doc("Carrier Account", name) if frappe.db.exists("Carrier Account", name) else frappe.new_doc("Carrier Account")
	doc.update(
		{
			"account_name": name,
			"carrier": carrier,
			"enabled": 1,
			"company": fx.COMPANY,
			"api_base_url": fake.api_url if carrier == "GHN" else fake.base_url,
			"token": fake.token,
			"pickup_name": "Kho OMS",
			"pickup_phone": "0909999999",
			**values,
		}
	)
	doc.save(ignore_permissions=True)
	return doc.name


class TestCarriers(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		fx.ensure_basics()
		shipping = fx.ensure_item("OMS-SHIPPING", 0, stock_item=False)
		fx.ensure_channel(CHANNEL, shipping_fee_item=shipping, invoice_policy="Never", prepaid_payment_account=None)
		for item in ("OMS-TSHIRT", "OMS-CAP"):
			fx.set_stock(item, fx.wh("OMS Hanoi"), 100)
		cls.ghn = FakeGHN().start()
		cls.ghtk = FakeGHTK().start()
		frappe.db.set_value("Carrier Account", {"company": fx.COMPANY}, "enabled", 0)  # earlier runs' stand-ins are gone
		carrier_account(
			"OMS Test GHN", "GHN", cls.ghn, shop_id=str(cls.ghn.shop_id),
			pickup_line1="12 Nguyễn Đình Chiểu", pickup_ward="P. Đa Kao", pickup_district="Q1", pickup_province="TP. Hồ Chí Minh",
		)
		carrier_account(
			"OMS Test GHTK", "GHTK", cls.ghtk,
			pickup_line1="590 CMT8", pickup_ward="Phường 1", pickup_district="Quận 3", pickup_province="TP. Hồ Chí Minh",
		)
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.ghn.stop()
		cls.ghtk.stop()
		super().tearDownClass()

	def shipped_note(self, address: dict, payment_method: str = "COD") -> str:
		order_id = f"CAR-{frappe.generate_hash(length=8).upper()}"
		values = {"shipping_address": address, "payment_method": payment_method}
		intake.receive_order(CHANNEL, json.dumps(fx.canonical_order(order_id, **values)), source="Webhook")
		name = intake.receive_order(CHANNEL, json.dumps(fx.canonical_order(order_id, "shipped", **values)), source="Webhook")
		[dn] = frappe.get_all("Delivery Note", filters={"oms_channel_order": name, "docstatus": 1}, pluck="name")
		return dn

	def test_quotes_from_every_carrier_choice_and_booking_once(self):
		dn = self.shipped_note(SAIGON)
		answer = carriers.quote_delivery_note(dn)
		self.assertEqual(answer["problems"], {})
		note = frappe.get_doc("Delivery Note", dn)
		quotes = json.loads(note.oms_carrier_quotes)
		self.assertEqual({q["carrier"] for q in quotes}, {"GHN", "GHTK"})
		cheapest = min(quotes, key=lambda q: q["fee"])
		self.assertEqual(frappe.db.get_value("Carrier Account", note.oms_carrier_account, "carrier"), cheapest["carrier"])
		self.assertEqual((note.oms_carrier_service, flt(note.oms_carrier_fee)), (cheapest["service_id"], cheapest["fee"]))
		self.assertIn("the lowest fee", note.oms_carrier_choice)

		booked = carriers.book_delivery_note(dn)
		note.reload()
		self.assertTrue(booked["booked"] and note.oms_tracking_number == booked["tracking_number"] == note.lr_no)
		self.assertEqual(frappe.db.get_value("Channel Order", note.oms_channel_order, "tracking_number"), booked["tracking_number"])
		[label] = frappe.get_all("File", filters={"attached_to_doctype": "Delivery Note", "attached_to_name": dn}, pluck="name")
		content = frappe.get_doc("File", label).get_content()
		self.assertTrue((content if isinstance(content, bytes) else content.encode("latin-1")).startswith(b"%PDF"))
		# the COD the carrier collects is what the buyer owes, and the note is the booking's reference
		fake, path, cod_field = (
			(self.ghn, "/v2/shipping-order/create", "cod_amount")
			if cheapest["carrier"] == "GHN"
			else (self.ghtk, "/services/shipment/order", "pick_money")
		)
		[create] = [call for call in fake.calls if call["path"].endswith(path)]
		sent = json.loads(create["body"])
		sent = sent.get("order", sent)
		self.assertEqual(flt(sent[cod_field]), flt(note.grand_total))
		self.assertIn(dn, json.dumps(sent))
		# a second click books nothing more
		self.assertEqual(carriers.book_delivery_note(dn), {"tracking_number": booked["tracking_number"], "booked": False})

	def test_an_address_no_carrier_can_place_is_named(self):
		nowhere = {**SAIGON, "ward": "Phường Không Có", "district": "Quận Không Có"}
		dn = self.shipped_note(nowhere)
		answer = carriers.quote_delivery_note(dn)
		self.assertEqual(set(answer["problems"]), {"GHN", "GHTK"})
		note = frappe.get_doc("Delivery Note", dn)
		self.assertIn("No carrier quoted this parcel", note.oms_carrier_choice)
		self.assertFalse(note.oms_carrier_account)
		self.assertRaises(frappe.ValidationError, carriers.book_delivery_note, dn)

	def test_a_carrier_that_fails_holds_up_no_other(self):
		dn = self.shipped_note(SAIGON)
		self.ghtk.fail("/services/shipment/fee", "503", times=20)
		self.addCleanup(self.ghtk._faults.clear)  # what this test's quotes left of the faults
		answer = carriers.quote_delivery_note(dn)
		self.assertEqual(set(answer["problems"]), {"GHTK"})
		note = frappe.get_doc("Delivery Note", dn)
		self.assertEqual(frappe.db.get_value("Carrier Account", note.oms_carrier_account, "carrier"), "GHN")

	def test_an_account_that_collects_no_cod_is_left_out_of_a_cod_parcel(self):
		frappe.db.set_value("Carrier Account", "OMS Test GHN", "allow_cod", 0)
		try:
			answer = carriers.quote_delivery_note(self.shipped_note(SAIGON))
		finally:
			frappe.db.set_value("Carrier Account", "OMS Test GHN", "allow_cod", 1)
		self.assertEqual(answer["problems"], {"GHN": "does not collect COD on this account"})
		self.assertIn("GHTK", answer["reason"])

	def test_receiver_is_read_from_the_order_as_it_came(self):
		dn = frappe.get_doc("Delivery Note", self.shipped_note(SAIGON))
		receiver = carriers.receiver_address(dn)
		self.assertEqual((receiver.ward, receiver.district, receiver.province), ("Phường Bến Nghé", "Quận 1", "TP. Hồ Chí Minh"))
		parcel = carriers.parcel_of(dn)
		self.assertEqual(parcel.weight_g, 3 * carriers.DEFAULT_ITEM_WEIGHT_G)  # 2 shirts and a cap, no weights set
		self.assertEqual(flt(parcel.cod_amount), flt(dn.grand_total))
		prepaid = carriers.parcel_of(frappe.get_doc("Delivery Note", self.shipped_note(SAIGON, "Prepaid")))
		self.assertEqual(flt(prepaid.cod_amount), 0)
