"""Fees and their payment: account numbers, model-97 references, NBS IPS QR codes, payment
orders of cases, bank statements (camt.053) and their reconciliation."""
