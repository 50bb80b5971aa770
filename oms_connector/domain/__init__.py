"""Pure Python: the order model, lifecycle, routing engine and stock maths. No frappe, no HTTP."""
