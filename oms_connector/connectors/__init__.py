"""One package per platform; each speaks its platform's API and nothing else (no frappe)."""
