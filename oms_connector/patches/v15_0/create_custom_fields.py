from oms_connector.setup.install import make_custom_fields


def execute():
	# Custom fields are code, so each release re-applies them on migrate.
	make_custom_fields()
