from oms_connector.setup.install import show_amounts_in_their_currency_format


def execute():
	# sites that installed the app before it set this (VND shown with two decimals)
	show_amounts_in_their_currency_format()
