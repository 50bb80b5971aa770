"""Whitelisted endpoints: desk actions and platform webhooks. Each checks permissions or a signature."""
