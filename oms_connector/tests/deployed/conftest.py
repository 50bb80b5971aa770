"""Tier 3: the app as deployed. A fresh site, gunicorn (2 workers) and an RQ worker on every
queue the app uses; tests talk to it over HTTP only and read the results from the database.

This process connects to the site too, but only to make test data (items, stock, channels)
and to read what the deployed processes did.
"""

from __future__ import annotations

import os

import frappe
import pytest

from oms_connector.tests.deployed import stack


@pytest.fixture(scope="session")
def site():
	if os.environ.get("OMS_DEPLOYED_REUSE_SITE") != "1":
		stack.make_fresh_site()
	frappe.init(site=stack.SITE, sites_path=str(stack.SITES))
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		yield stack.SITE
	finally:
		frappe.destroy()


@pytest.fixture(scope="session")
def app(site):
	"""One app server: gunicorn with 2 workers and an RQ worker per queue."""
	stack.forget_other_sites_jobs()
	with stack.AppServer("a") as server:
		yield server


@pytest.fixture(scope="session")
def second_app(app):
	"""A second, independent gunicorn + worker set on the same site, as a second machine."""
	with stack.AppServer("b") as server:
		yield server


@pytest.fixture(scope="session")
def scheduler(app):
	process = stack.scheduler().start()
	try:
		yield process
	finally:
		process.stop()


@pytest.fixture(scope="session")
def front_door(app):
	"""nginx (assets, /socket.io) and Frappe's realtime server in front of the app server."""
	with stack.FrontDoor(app) as door:
		yield door


@pytest.fixture(scope="session")
def browser(front_door):
	"""One headless Chromium for the suite, logged in as Administrator."""
	from oms_connector.tests.deployed.desk import Desk

	desk = Desk(front_door.url)
	try:
		desk.login()
		yield desk
	finally:
		desk.quit()


@pytest.fixture
def desk(browser):
	"""The browser, with any console error of the test failing it."""
	browser.console_errors()  # what earlier tests left
	yield browser
	browser.close_dialogs()
	browser.assert_clean_console()
