"""The registers: risks, vendors, incidents, policies and acknowledgements, exceptions, and
owner evidence."""
