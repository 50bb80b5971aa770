"""The demo site's records (oms_connector.demo.setup.make_demo)."""
