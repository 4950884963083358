"""The contract adapters of the four bundled connectors, one module per system."""
