"""The desk in a real browser: Debian's Chromium, driven by Selenium through Debian's chromedriver
(no browser is downloaded). Fields are filled through the form's own API (`cur_frm.set_value`,
as a field's change does), buttons are clicked as a person clicks them, and every page's
console is read: an error there fails the test.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (
	ElementClickInterceptedException,
	StaleElementReferenceException,
	TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("OMS_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("OMS_SCREENSHOTS", "/tmp/oms-screenshots"))
WAIT = 60  # seconds for anything the desk does after a click (a loaded CI machine is slow)
# this closed machine refuses Chromium's own calls home; without these it retries them at every start
CHROMIUM_FLAGS = (
	"--headless=new",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-dev-shm-usage",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--window-size=1440,1000",
	"--lang=en-US",
)
# the desk is idle: no request in flight, nothing frozen, no page still loading
IDLE = """return document.readyState === "complete" && window.frappe && frappe.request
	&& !frappe.request.ajax_count && !(frappe.dom && frappe.dom.freeze_count)
	&& !document.querySelector("#freeze.in");"""


class ConsoleError(AssertionError):
	pass


# Frappe's own desk bundle throws this now and then while the workspace redraws its charts
# (about one run in four here, in a test that touches nothing of ours but the page); it is
# Frappe's, not the app's, so it alone is let through, and only from Frappe's bundle.
FRAPPE_DESK_NOISE = ("/assets/frappe/dist/js/desk.bundle.", "Failed to execute 'removeChild' on 'Node'")


def _frappe_noise(message: str) -> bool:
	return all(mark in message for mark in FRAPPE_DESK_NOISE)


class Desk:
	def __init__(self, base_url: str):
		self.base_url = base_url.rstrip("/")
		self.profile = tempfile.TemporaryDirectory(prefix="oms-chromium-")
		options = webdriver.ChromeOptions()
		options.binary_location = CHROMIUM
		for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={self.profile.name}"):
			options.add_argument(flag)
		options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
		self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
		self.driver.set_page_load_timeout(60)
		self.seen_errors: list[str] = []

	def quit(self) -> None:
		self.driver.quit()
		self.profile.cleanup()

	# --- pages --------------------------------------------------------------------------
	def login(self, user: str = "Administrator", password: str = "admin") -> None:
		self.driver.get(f"{self.base_url}/login")
		self.wait_for(lambda d: d.find_elements(By.ID, "login_email"))
		self.driver.find_element(By.ID, "login_email").send_keys(user)
		self.driver.find_element(By.ID, "login_password").send_keys(password)
		self.driver.find_element(By.CSS_SELECTOR, ".btn-login").click()
		self.wait_for(lambda d: "/app" in d.current_url)
		self.idle()

	def open(self, path: str) -> None:
		self.driver.get(f"{self.base_url}{path}")
		self.idle()

	def route(self, *parts: str) -> None:
		"""Move inside the desk as its links do (no page reload)."""
		self.js("frappe.set_route(...arguments)", *parts)
		self.idle()

	def idle(self, timeout: float = WAIT) -> None:
		self.wait_for(lambda d: d.execute_script(IDLE), timeout)
		time.sleep(0.3)  # renders queued after the last response
		self.wait_for(lambda d: d.execute_script(IDLE), timeout)

	def wait_for(self, condition, timeout: float = WAIT, message: str = ""):
		try:
			return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(condition)
		except TimeoutException:
			self.screenshot("timeout")
			raise TimeoutException(message or f"waited {timeout} s on {self.driver.current_url}") from None

	def js(self, script: str, *args):
		return self.driver.execute_script(script, *args)

	def js_async(self, script: str, *args):
		"""Run `script` with `done` bound to the callback (for promises)."""
		return self.driver.execute_async_script(
			f"const done = arguments[arguments.length - 1]; {script}", *args
		)

	# --- forms ---------------------------------------------------------------------------
	def set_values(self, values: dict) -> None:
		"""As if typed into each field: the form's change events run (fetches, queries, triggers)."""
		for field, value in values.items():
			self.js_async(
				"cur_frm.set_value(arguments[0], arguments[1]).then(() => done(), (e) => done(String(e)));",
				field,
				value,
			)
			self.idle()

	def add_row(self, table: str, values: dict) -> None:
		"""Fill the table's blank row (a required table starts with one) or add a row."""
		self.js_async(
			"""const keys = Object.keys(arguments[1]);
			const blank = (cur_frm.doc[arguments[0]] || []).find((r) => keys.every((k) => !r[k]));
			const row = blank || cur_frm.add_child(arguments[0]);
			Promise.all(Object.entries(arguments[1]).map(([k, v]) => frappe.model.set_value(row.doctype, row.name, k, v)))
				.then(() => { cur_frm.refresh_field(arguments[0]); done(); });""",
			table,
			values,
		)
		self.idle()

	def doc(self) -> dict:
		return self.js("return cur_frm && JSON.parse(JSON.stringify(cur_frm.doc));")

	def save(self) -> None:
		"""Ctrl+S, as staff save a form."""
		self.js("cur_frm.save_or_update();")
		self.idle()

	def field_visible(self, fieldname: str) -> bool:
		"""Shown by the form's rules (depends_on, permissions), even inside a collapsed section."""
		return bool(
			self.js(
				"""const f = cur_frm.fields_dict[arguments[0]];
				return !!(f && f.$wrapper && !f.$wrapper.hasClass('hide-control') && f.disp_status !== 'None');""",
				fieldname,
			)
		)

	def field_html(self, fieldname: str) -> str:
		return self.js("return cur_frm.fields_dict[arguments[0]].$wrapper.text();", fieldname)

	def displayed(self, fieldname: str) -> str:
		"""The field's value as the form shows it (read-only display)."""
		return self.js(
			"""const f = cur_frm.fields_dict[arguments[0]];
			return (f.$wrapper.find('.control-value, .like-disabled-input').text()
				|| f.$wrapper.find('input').val() || '').trim();""",
			fieldname,
		)

	# --- buttons and dialogs ---------------------------------------------------------------
	def click(self, label: str, group: str | None = None) -> None:
		"""A page button (or an entry of a button group) by its visible label."""
		if group:
			self._click_in_group(label, group)
		else:
			self._click_xpath(f"//div[contains(@class,'page-head')]//button[normalize-space()={_q(label)}][not(contains(@class,'hide'))]")
		self.idle()

	def click_in_dialog(self, label: str) -> None:
		self.wait_for_dialog()
		self._click_xpath(f"//div[contains(@class,'modal') and contains(@class,'show')]//button[normalize-space()={_q(label)}]")
		self.idle()

	def buttons(self) -> list[str]:
		"""The page's visible buttons and the entries of its button groups (not the ... menu)."""
		return self.js(
			"""const shown = [...document.querySelectorAll('.page-head .page-actions button')].filter((b) => b.offsetParent !== null);
			const grouped = [...document.querySelectorAll('.page-head .inner-group-button .dropdown-menu a')];
			return [...shown, ...grouped].map((b) => b.textContent.trim()).filter(Boolean);"""
		)

	def dialog_text(self) -> str:
		return self.js(
			"return [...document.querySelectorAll('.modal.show .modal-body')].map((m) => m.innerText).join('\\n');"
		)

	def close_dialogs(self) -> None:
		"""Close open dialogs and wait for their closing animation: moving on mid-animation
		makes Frappe remove a node twice (a console error that is the test's, not the app's)."""
		self.js("$('.modal.show').modal('hide');")
		self.wait_for(lambda d: d.execute_script("return !document.querySelector('.modal.show, .modal-backdrop');"))
		self.idle()

	def wait_for_dialog(self) -> None:
		"""Frappe names the open dialog (cur_dialog) once its opening animation ends."""
		self.wait_for(lambda d: d.execute_script("return !!(window.cur_dialog && cur_dialog.display);"), message="no dialog opened")

	def dialog_set(self, values: dict) -> None:
		self.wait_for_dialog()
		for field, value in values.items():
			self.js_async(
				"Promise.resolve(cur_dialog.set_value(arguments[0], arguments[1])).then(() => done());", field, value
			)
			self.idle()

	def _click_in_group(self, label: str, group: str) -> None:
		"""Open the group and click its entry; a form that refreshes (a realtime update after a
		reload) rebuilds its buttons and closes the menu, so it is opened again until the click lands."""
		button = f"//div[contains(@class,'page-actions') or contains(@class,'custom-actions')]//button[normalize-space()={_q(group)}]"
		entry = (
			f"//*[contains(@class,'dropdown-menu') and contains(@class,'show')]"
			f"//a[normalize-space()={_q(label)} or .//span[normalize-space()={_q(label)}]]"
		)

		def clicked(driver):
			for xpath in (entry, button):  # the entry when the menu is open, else open it
				for element in driver.find_elements(By.XPATH, xpath):
					try:
						if element.is_displayed():
							element.click()
							return xpath == entry
					except (ElementClickInterceptedException, StaleElementReferenceException):
						return False
			return False

		self.wait_for(clicked, message=f"no {label} under {group}")

	def _click_xpath(self, xpath: str) -> None:
		def clickable(driver):
			for element in driver.find_elements(By.XPATH, xpath):
				try:
					if element.is_displayed():
						element.click()
						return True
				except (ElementClickInterceptedException, StaleElementReferenceException):
					return False
			return False

		self.wait_for(clickable, message=f"no clickable {xpath}")

	# --- what went wrong -------------------------------------------------------------------
	def console_errors(self) -> list[str]:
		"""Console errors since the last look (the log is read once by chromedriver)."""
		errors = [
			entry["message"]
			for entry in self.driver.get_log("browser")
			if entry["level"] == "SEVERE" and not _frappe_noise(entry["message"])
		]
		self.seen_errors += errors
		return errors

	def expect_refusal(self) -> None:
		"""The server refused the last action on purpose (a ValidationError answers 417, and the
		desk prints its traceback): those console lines are expected; anything else still fails."""
		expected = ("status of 417", "frappe.exceptions.ValidationError")
		unexpected = [error for error in self.console_errors() if not any(mark in error for mark in expected)]
		if unexpected:
			raise ConsoleError("browser console errors:\n" + "\n".join(unexpected))

	def cookies(self) -> dict:
		return {cookie["name"]: cookie["value"] for cookie in self.driver.get_cookies()}

	def assert_clean_console(self) -> None:
		errors = self.console_errors()
		if errors:
			self.screenshot("console-error")
			raise ConsoleError("browser console errors:\n" + "\n".join(errors))

	def screenshot(self, name: str, field: str | None = None, settle: float = 0) -> Path:
		"""A picture of the page (scrolled to a form field), after `settle` s of animations."""
		if field:
			self.js("cur_frm.scroll_to_field(arguments[0]);", field)
			time.sleep(0.5)
		time.sleep(settle)
		SCREENSHOTS.mkdir(parents=True, exist_ok=True)
		path = SCREENSHOTS / f"{name}.png"
		self.driver.save_screenshot(str(path))
		return path


def _q(text: str) -> str:
	"""An XPath string literal for any text."""
	if "'" not in text:
		return f"'{text}'"
	return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


def as_json(value) -> str:
	return json.dumps(value, ensure_ascii=False)
