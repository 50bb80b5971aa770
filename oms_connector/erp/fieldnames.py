"""Names of the custom fields the app adds to ERPNext doctypes (made in setup/install.py).

Every module that reads or writes one of them uses these names, so a rename is one change.
"""

# Sales Order, Delivery Note, Sales Invoice, Payment Entry: the Channel Order it came from
CHANNEL_ORDER = "oms_channel_order"
# Sales Order, Delivery Note, Sales Invoice: its Sales Channel (fetched from the Channel Order)
SALES_CHANNEL = "oms_sales_channel"
# Journal Entry: the Channel Order a settlement booking belongs to (CHANNEL_ORDER again)
# Sales Order: what the buyer paid and what the platform funds of the sale (its grand total)
BUYER_PAID = "oms_buyer_paid"
PLATFORM_FUNDED = "oms_platform_funded"
# Delivery Note: the platform's package and the carrier's tracking number
PACKAGE_ID = "oms_package_id"
TRACKING_NUMBER = "oms_tracking_number"
# Customer: "<channel>:<platform buyer id>" for buyers whose phone and e-mail are masked
BUYER_KEY = "oms_buyer_key"
# Warehouse: where it is and what it may do, for routing
WAREHOUSE_LATITUDE = "oms_latitude"
WAREHOUSE_LONGITUDE = "oms_longitude"
WAREHOUSE_PROVINCE = "oms_province"
WAREHOUSE_PRIORITY = "oms_routing_priority"
WAREHOUSE_IS_STORE = "oms_is_store"
WAREHOUSE_PICKUP = "oms_pickup"
WAREHOUSE_PICKUP_ONLY = "oms_pickup_only"
WAREHOUSE_DAILY_CAPACITY = "oms_daily_capacity"
WAREHOUSE_HANDLING_COST = "oms_handling_cost"
# Delivery Note: the carrier chosen for its parcel, why, the quotes it was chosen from, the fee
CARRIER_ACCOUNT = "oms_carrier_account"
CARRIER_SERVICE = "oms_carrier_service"
CARRIER_FEE = "oms_carrier_fee"
CARRIER_CHOICE = "oms_carrier_choice"
CARRIER_QUOTES = "oms_carrier_quotes"
