"""The KPI report: what each tier did for each client in a period, from the store."""
