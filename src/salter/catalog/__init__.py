"""Services of the authorities and their versioned definitions (form, workflow, deadline, fees,
evidence, documents, notifications)."""
