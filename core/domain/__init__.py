"""The domain: plain models, ports (Protocols), services and errors. No I/O library imports here."""
