"""Dynamics 365 Customer Service (Dataverse Web API v9.2) connector for cases (`incident`)."""
