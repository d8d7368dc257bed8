"""Personal data in customer text. ``pii`` finds e-mails, phone numbers, payment cards, IBANs and
national IDs (each validated, so order numbers, prices and dates are left alone) and redacts them:
the answer flow stores customer turns redacted (they feed summaries and handoffs), and the answer
cache keeps no answer to a question that carries any."""
