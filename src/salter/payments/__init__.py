"""Fees and their payment: account numbers, model-97 references, NBS IPS QR codes, statements.

The modules here are pure Python (no models yet): the arithmetic and the formats that the
payment slips and the bank-statement reconciliation will stand on.
"""
