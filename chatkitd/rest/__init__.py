"""The ChatKit REST API's domain: request validation and response shapes. No HTTP here."""
