"""The checker: exploration, properties, reports and the command line."""
